<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja">
<context>
    <name>Traveller</name>
    <message>
        <source>A passport was left on the reader</source>
        <translation>読取機に&#8203;パスポートが&#8203;残っています</translation>
    </message>
    <message>
        <source>Arrivals</source>
        <translation>入国</translation>
    </message>
    <message>
        <source>Automated border control</source>
        <translation>自動化ゲート</translation>
    </message>
    <message>
        <source>Boarding pass</source>
        <translation>搭乗券</translation>
    </message>
    <message>
        <source>Checking your departure</source>
        <translation>出国審査を&#8203;行っています</translation>
    </message>
    <message>
        <source>Checking your entry</source>
        <translation>入国審査を&#8203;行っています</translation>
    </message>
    <message>
        <source>Checking your passport</source>
        <translation>パスポートを&#8203;確認しています</translation>
    </message>
    <message>
        <source>Departures</source>
        <translation>出国</translation>
    </message>
    <message>
        <source>Face</source>
        <translation>顔</translation>
    </message>
    <message>
        <source>Gate</source>
        <translation>ゲート</translation>
    </message>
    <message>
        <source>Have a good journey</source>
        <translation>よい&#8203;ご旅行を</translation>
    </message>
    <message>
        <source>High contrast</source>
        <translation>ハイコントラスト</translation>
    </message>
    <message>
        <source>Hold the barcode steady in front of the camera</source>
        <translation>バーコードを&#8203;カメラの前で&#8203;静止させてください</translation>
    </message>
    <message>
        <source>I have no boarding pass</source>
        <translation>搭乗券がありません</translation>
    </message>
    <message>
        <source>If it is yours, please take it. Otherwise please tell an officer.</source>
        <translation>ご自身のものであれば、&#8203;お取りください。&#8203;そうでなければ、&#8203;係員に&#8203;お知らせください。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <source>Leave it on the reader until you are asked to take it.</source>
        <translation>案内があるまで、&#8203;読取機に&#8203;置いたままに&#8203;してください。</translation>
    </message>
    <message>
        <source>Look at the camera</source>
        <translation>カメラを&#8203;見てください</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>消音</translation>
    </message>
    <message>
        <source>One person at a time, please</source>
        <translation>お一人ずつ&#8203;お願いします</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it face down</source>
        <translation>顔写真のページを開き、&#8203;下向きに&#8203;置いてください</translation>
    </message>
    <message>
        <source>Passport</source>
        <translation>パスポート</translation>
    </message>
    <message>
        <source>Place your passport on the reader</source>
        <translation>パスポートを&#8203;読取機に&#8203;置いてください</translation>
    </message>
    <message>
        <source>Please blink</source>
        <translation>まばたきを&#8203;してください</translation>
    </message>
    <message>
        <source>Please hold still</source>
        <translation>動かないでください</translation>
    </message>
    <message>
        <source>Please leave the passport on the reader</source>
        <translation>パスポートを&#8203;動かさないでください</translation>
    </message>
    <message>
        <source>Please step in front of the camera</source>
        <translation>カメラの&#8203;前に&#8203;立ってください</translation>
    </message>
    <message>
        <source>Please look straight at the camera</source>
        <translation>まっすぐ&#8203;カメラを&#8203;見てください</translation>
    </message>
    <message>
        <source>Please open your eyes</source>
        <translation>目を&#8203;開けてください</translation>
    </message>
    <message>
        <source>Please see an officer</source>
        <translation>係員に&#8203;お申し出ください</translation>
    </message>
    <message>
        <source>Please stand in the middle</source>
        <translation>中央に&#8203;立ってください</translation>
    </message>
    <message>
        <source>Please step back a little</source>
        <translation>少し&#8203;下がってください</translation>
    </message>
    <message>
        <source>Please step closer</source>
        <translation>もう少し&#8203;近づいてください</translation>
    </message>
    <message>
        <source>Please step into the light</source>
        <translation>明るい場所に&#8203;立ってください</translation>
    </message>
    <message>
        <source>Please turn your head to the left</source>
        <translation>顔を&#8203;左に&#8203;向けてください</translation>
    </message>
    <message>
        <source>Please turn your head to the right</source>
        <translation>顔を&#8203;右に&#8203;向けてください</translation>
    </message>
    <message>
        <source>Please use another lane or see an officer.</source>
        <translation>他のゲートを&#8203;ご利用いただくか、&#8203;係員に&#8203;お申し出ください。</translation>
    </message>
    <message>
        <source>Please wait</source>
        <translation>お待ちください</translation>
    </message>
    <message>
        <source>Please walk through the gate</source>
        <translation>ゲートを&#8203;お通りください</translation>
    </message>
    <message>
        <source>Reading your passport</source>
        <translation>パスポートを&#8203;読み取っています</translation>
    </message>
    <message>
        <source>Remove your hat and sunglasses</source>
        <translation>帽子と&#8203;サングラスを&#8203;外してください</translation>
    </message>
    <message>
        <source>Show your boarding pass to the camera</source>
        <translation>搭乗券を&#8203;カメラに&#8203;かざしてください</translation>
    </message>
    <message>
        <source>Sorry, this did not work</source>
        <translation>申し訳ありません。&#8203;完了できませんでした</translation>
    </message>
    <message>
        <source>Please try again</source>
        <translation>もう一度&#8203;お試しください</translation>
    </message>
    <message>
        <source>Sound on</source>
        <translation>音声オン</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>開始</translation>
    </message>
    <message>
        <source>Start again</source>
        <translation>やり直す</translation>
    </message>
    <message>
        <source>Take your passport</source>
        <translation>パスポートを&#8203;お取りください</translation>
    </message>
    <message>
        <source>Take your passport with you</source>
        <translation>パスポートを&#8203;お持ちください</translation>
    </message>
    <message>
        <source>The gate opens when you have taken it</source>
        <translation>お取りになると、&#8203;ゲートが&#8203;開きます</translation>
    </message>
    <message>
        <source>The passport was taken away too early.</source>
        <translation>パスポートを&#8203;取るのが&#8203;早すぎました。</translation>
    </message>
    <message>
        <source>The time ran out.</source>
        <translation>時間切れに&#8203;なりました。</translation>
    </message>
    <message>
        <source>This lane is out of order.</source>
        <translation>このゲートは&#8203;現在&#8203;ご利用いただけません。</translation>
    </message>
    <message>
        <source>This takes a moment</source>
        <translation>しばらく&#8203;お待ちください</translation>
    </message>
    <message>
        <source>Time left: %1 s</source>
        <translation>残り %1 秒</translation>
    </message>
    <message>
        <source>Touch Start again to try once more.</source>
        <translation>「やり直す」を押して、&#8203;もう一度&#8203;お試しください。</translation>
    </message>
    <message>
        <source>Touch your language to start, or place your passport on the reader</source>
        <translation>言語を選んで開始するか、&#8203;パスポートを&#8203;読取機に&#8203;置いてください</translation>
    </message>
    <message>
        <source>Welcome</source>
        <translation>ようこそ</translation>
    </message>
    <message>
        <source>Welcome to China</source>
        <translation>中国へ&#8203;ようこそ</translation>
    </message>
    <message>
        <source>The passport&apos;s data page could not be read.</source>
        <translation>パスポートの&#8203;顔写真の&#8203;ページを&#8203;読み取れませんでした。</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it flat on the reader, out of bright light.</source>
        <translation>顔写真の&#8203;ページを&#8203;開き、&#8203;強い光を&#8203;避けて、&#8203;読取機に&#8203;平らに&#8203;置いてください。</translation>
    </message>
</context>
</TS>
