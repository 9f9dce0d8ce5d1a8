<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko">
<context>
    <name>Traveller</name>
    <message>
        <source>A passport was left on the reader</source>
        <translation>판독기에 여권이 남아 있습니다</translation>
    </message>
    <message>
        <source>Arrivals</source>
        <translation>입국</translation>
    </message>
    <message>
        <source>Automated border control</source>
        <translation>자동출입국심사</translation>
    </message>
    <message>
        <source>Boarding pass</source>
        <translation>탑승권</translation>
    </message>
    <message>
        <source>Checking your departure</source>
        <translation>출국 심사 중입니다</translation>
    </message>
    <message>
        <source>Checking your entry</source>
        <translation>입국 심사 중입니다</translation>
    </message>
    <message>
        <source>Checking your passport</source>
        <translation>여권을 확인하고 있습니다</translation>
    </message>
    <message>
        <source>Departures</source>
        <translation>출국</translation>
    </message>
    <message>
        <source>Face</source>
        <translation>얼굴</translation>
    </message>
    <message>
        <source>Gate</source>
        <translation>게이트</translation>
    </message>
    <message>
        <source>Have a good journey</source>
        <translation>즐거운 여행 되십시오</translation>
    </message>
    <message>
        <source>High contrast</source>
        <translation>고대비</translation>
    </message>
    <message>
        <source>Hold the barcode steady in front of the camera</source>
        <translation>바코드를 카메라 앞에 고정해 주십시오</translation>
    </message>
    <message>
        <source>I have no boarding pass</source>
        <translation>탑승권이 없습니다</translation>
    </message>
    <message>
        <source>If it is yours, please take it. Otherwise please tell an officer.</source>
        <translation>본인의 여권이면 가져가십시오. 아니면 직원에게 알려 주십시오.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <source>Leave it on the reader until you are asked to take it.</source>
        <translation>안내가 있을 때까지 판독기에 그대로 두십시오.</translation>
    </message>
    <message>
        <source>Look at the camera</source>
        <translation>카메라를 봐 주십시오</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>음소거</translation>
    </message>
    <message>
        <source>One person at a time, please</source>
        <translation>한 분씩 이용해 주십시오</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it face down</source>
        <translation>사진면을 펼쳐 아래로 향하게 놓아 주십시오</translation>
    </message>
    <message>
        <source>Passport</source>
        <translation>여권</translation>
    </message>
    <message>
        <source>Place your passport on the reader</source>
        <translation>여권을 판독기에 올려 주십시오</translation>
    </message>
    <message>
        <source>Please blink</source>
        <translation>눈을 깜빡여 주십시오</translation>
    </message>
    <message>
        <source>Please hold still</source>
        <translation>움직이지 마십시오</translation>
    </message>
    <message>
        <source>Please leave the passport on the reader</source>
        <translation>여권을 그대로 두십시오</translation>
    </message>
    <message>
        <source>Please step in front of the camera</source>
        <translation>카메라 앞에 서 주십시오</translation>
    </message>
    <message>
        <source>Please look straight at the camera</source>
        <translation>카메라를 정면으로 봐 주십시오</translation>
    </message>
    <message>
        <source>Please open your eyes</source>
        <translation>눈을 떠 주십시오</translation>
    </message>
    <message>
        <source>Please see an officer</source>
        <translation>직원에게 가 주십시오</translation>
    </message>
    <message>
        <source>Please stand in the middle</source>
        <translation>가운데에 서 주십시오</translation>
    </message>
    <message>
        <source>Please step back a little</source>
        <translation>조금 뒤로 물러나 주십시오</translation>
    </message>
    <message>
        <source>Please step closer</source>
        <translation>조금 더 가까이 와 주십시오</translation>
    </message>
    <message>
        <source>Please step into the light</source>
        <translation>밝은 곳으로 이동해 주십시오</translation>
    </message>
    <message>
        <source>Please turn your head to the left</source>
        <translation>고개를 왼쪽으로 돌려 주십시오</translation>
    </message>
    <message>
        <source>Please turn your head to the right</source>
        <translation>고개를 오른쪽으로 돌려 주십시오</translation>
    </message>
    <message>
        <source>Please use another lane or see an officer.</source>
        <translation>다른 게이트를 이용하시거나 직원에게 문의해 주십시오.</translation>
    </message>
    <message>
        <source>Please wait</source>
        <translation>기다려 주십시오</translation>
    </message>
    <message>
        <source>Please walk through the gate</source>
        <translation>게이트를 통과해 주십시오</translation>
    </message>
    <message>
        <source>Reading your passport</source>
        <translation>여권을 읽고 있습니다</translation>
    </message>
    <message>
        <source>Remove your hat and sunglasses</source>
        <translation>모자와 선글라스를 벗어 주십시오</translation>
    </message>
    <message>
        <source>Show your boarding pass to the camera</source>
        <translation>탑승권을 카메라에 보여 주십시오</translation>
    </message>
    <message>
        <source>Sorry, this did not work</source>
        <translation>죄송합니다. 완료하지 못했습니다</translation>
    </message>
    <message>
        <source>Please try again</source>
        <translation>다시 시도해 주십시오</translation>
    </message>
    <message>
        <source>Sound on</source>
        <translation>소리 켜기</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>시작</translation>
    </message>
    <message>
        <source>Start again</source>
        <translation>다시 시작</translation>
    </message>
    <message>
        <source>Take your passport</source>
        <translation>여권을 가져가십시오</translation>
    </message>
    <message>
        <source>Take your passport with you</source>
        <translation>여권을 챙겨 가십시오</translation>
    </message>
    <message>
        <source>The gate opens when you have taken it</source>
        <translation>여권을 가져가시면 게이트가 열립니다</translation>
    </message>
    <message>
        <source>The passport was taken away too early.</source>
        <translation>여권을 너무 일찍 가져가셨습니다.</translation>
    </message>
    <message>
        <source>The time ran out.</source>
        <translation>시간이 초과되었습니다.</translation>
    </message>
    <message>
        <source>This lane is out of order.</source>
        <translation>이 게이트는 사용할 수 없습니다.</translation>
    </message>
    <message>
        <source>This takes a moment</source>
        <translation>잠시만 기다려 주십시오</translation>
    </message>
    <message>
        <source>Time left: %1 s</source>
        <translation>남은 시간: %1초</translation>
    </message>
    <message>
        <source>Touch Start again to try once more.</source>
        <translation>‘다시 시작’을 눌러 다시 시도해 주십시오.</translation>
    </message>
    <message>
        <source>Touch your language to start, or place your passport on the reader</source>
        <translation>언어를 선택하여 시작하거나 여권을 판독기에 올려 주십시오</translation>
    </message>
    <message>
        <source>Welcome</source>
        <translation>환영합니다</translation>
    </message>
    <message>
        <source>Welcome to China</source>
        <translation>중국에 오신 것을 환영합니다</translation>
    </message>
    <message>
        <source>The passport&apos;s data page could not be read.</source>
        <translation>여권의 인적 사항 면을 읽을 수 없었습니다.</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it flat on the reader, out of bright light.</source>
        <translation>사진이 있는 면을 펴서 강한 빛을 피해 판독기에 평평하게 올려 주십시오.</translation>
    </message>
</context>
</TS>
