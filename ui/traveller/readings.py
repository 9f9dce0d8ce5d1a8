"""Kana readings of the kanji words in the Japanese prompts, for espeak-ng.

espeak-ng's Japanese voice reads hiragana and katakana only: a kanji is spoken as the
English words "Chinese letter". Each kanji word of ui/translations/egate_ja.ts and of
policy/messages.py (the referral message) is given its reading here, with its okurigana
where the reading depends on it (開き/開け); a test fails when a Japanese prompt gains
a kanji word without a reading.
"""

from __future__ import annotations

import re

READINGS_JA: dict[str, str] = {
    "一人": "ひとり",
    "一度": "いちど",
    "下がって": "さがって",
    "下向き": "したむき",
    "中国": "ちゅうごく",
    "中央": "ちゅうおう",
    "他": "ほか",
    "係員": "かかりいん",
    "入国審査": "にゅうこくしんさ",
    "出国審査": "しゅっこくしんさ",
    "入国": "にゅうこく",
    "出国": "しゅっこく",
    "申し出": "もうしで",
    "申し訳": "もうしわけ",
    "利用": "りよう",
    "前": "まえ",
    "動か": "うごか",
    "読み取って": "よみとって",
    "読取機": "よみとりき",
    "読み": "よみ",
    "取って": "とって",
    "取り": "とり",
    "取る": "とる",
    "右": "みぎ",
    "左": "ひだり",
    "向けて": "むけて",
    "場所": "ばしょ",
    "外して": "はずして",
    "完了": "かんりょう",
    "少し": "すこし",
    "帽子": "ぼうし",
    "待ち": "まち",
    "押して": "おして",
    "持ち": "もち",
    "搭乗券": "とうじょうけん",
    "旅行": "りょこう",
    "早すぎ": "はやすぎ",
    "明るい": "あかるい",
    "時間切れ": "じかんぎれ",
    "案内": "あんない",
    "残って": "のこって",
    "残り": "のこり",
    "消音": "しょうおん",
    "現在": "げんざい",
    "目": "め",
    "直す": "なおす",
    "知らせ": "しらせ",
    "確認": "かくにん",
    "秒": "びょう",
    "立って": "たって",
    "置いた": "おいた",
    "置いて": "おいて",
    "自動化": "じどうか",
    "自身": "じしん",
    "行って": "おこなって",
    "見て": "みて",
    "言語": "げんご",
    "試し": "ためし",
    "近づいて": "ちかづいて",
    "近く": "ちかく",
    "有人": "ゆうじん",
    "進み": "すすみ",
    "通り": "とおり",
    "選んで": "えらんで",
    "開始": "かいし",
    "開き": "ひらき",
    "開け": "あけ",
    "静止": "せいし",
    "音声": "おんせい",
    "顔写真": "かおじゃしん",
    "顔": "かお",
    "願い": "ねがい",
}

# Longest first: 入国審査 before 入国, 読み取って before 読み.
_WORD = re.compile("|".join(sorted(map(re.escape, READINGS_JA), key=len, reverse=True)))
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]")


def kana_reading(text: str) -> str:
    """Japanese text with every known kanji word replaced by its kana reading."""
    return _WORD.sub(lambda m: READINGS_JA[m.group(0)], text)
