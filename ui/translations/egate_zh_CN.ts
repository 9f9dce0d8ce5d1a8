<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Traveller</name>
    <message>
        <source>A passport was left on the reader</source>
        <translation>阅读器上留有护照</translation>
    </message>
    <message>
        <source>Arrivals</source>
        <translation>入境</translation>
    </message>
    <message>
        <source>Automated border control</source>
        <translation>自助通关</translation>
    </message>
    <message>
        <source>Boarding pass</source>
        <translation>登机牌</translation>
    </message>
    <message>
        <source>Checking your departure</source>
        <translation>正在办理出境查验</translation>
    </message>
    <message>
        <source>Checking your entry</source>
        <translation>正在办理入境查验</translation>
    </message>
    <message>
        <source>Checking your passport</source>
        <translation>正在核验护照</translation>
    </message>
    <message>
        <source>Departures</source>
        <translation>出境</translation>
    </message>
    <message>
        <source>Face</source>
        <translation>人脸</translation>
    </message>
    <message>
        <source>Gate</source>
        <translation>通行</translation>
    </message>
    <message>
        <source>Have a good journey</source>
        <translation>祝您旅途愉快</translation>
    </message>
    <message>
        <source>High contrast</source>
        <translation>高对比度</translation>
    </message>
    <message>
        <source>Hold the barcode steady in front of the camera</source>
        <translation>请将条码对准摄像头，并保持不动</translation>
    </message>
    <message>
        <source>I have no boarding pass</source>
        <translation>我没有登机牌</translation>
    </message>
    <message>
        <source>If it is yours, please take it. Otherwise please tell an officer.</source>
        <translation>如果是您的护照，请取回；否则，请告知工作人员。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Leave it on the reader until you are asked to take it.</source>
        <translation>请将护照留在阅读器上，直到提示取回。</translation>
    </message>
    <message>
        <source>Look at the camera</source>
        <translation>请注视摄像头</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <source>One person at a time, please</source>
        <translation>请一次一人</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it face down</source>
        <translation>翻开护照照片页，照片页朝下放置</translation>
    </message>
    <message>
        <source>Passport</source>
        <translation>护照</translation>
    </message>
    <message>
        <source>Place your passport on the reader</source>
        <translation>请将护照放在阅读器上</translation>
    </message>
    <message>
        <source>Please blink</source>
        <translation>请眨眼</translation>
    </message>
    <message>
        <source>Please hold still</source>
        <translation>请保持不动</translation>
    </message>
    <message>
        <source>Please leave the passport on the reader</source>
        <translation>请勿移动护照</translation>
    </message>
    <message>
        <source>Please look at the camera</source>
        <translation>请注视摄像头</translation>
    </message>
    <message>
        <source>Please look straight at the camera</source>
        <translation>请正视摄像头</translation>
    </message>
    <message>
        <source>Please open your eyes</source>
        <translation>请睁开眼睛</translation>
    </message>
    <message>
        <source>Please see an officer</source>
        <translation>请联系工作人员</translation>
    </message>
    <message>
        <source>Please stand in the middle</source>
        <translation>请站在中间</translation>
    </message>
    <message>
        <source>Please step back a little</source>
        <translation>请稍微后退</translation>
    </message>
    <message>
        <source>Please step closer</source>
        <translation>请靠近一些</translation>
    </message>
    <message>
        <source>Please step into the light</source>
        <translation>请站到光线充足处</translation>
    </message>
    <message>
        <source>Please turn your head to the left</source>
        <translation>请向左转头</translation>
    </message>
    <message>
        <source>Please turn your head to the right</source>
        <translation>请向右转头</translation>
    </message>
    <message>
        <source>Please use another lane or see an officer.</source>
        <translation>请使用其他通道，或联系工作人员。</translation>
    </message>
    <message>
        <source>Please wait</source>
        <translation>请稍候</translation>
    </message>
    <message>
        <source>Please walk through the gate</source>
        <translation>请通过闸门</translation>
    </message>
    <message>
        <source>Reading your passport</source>
        <translation>正在读取护照</translation>
    </message>
    <message>
        <source>Remove your hat and sunglasses</source>
        <translation>请摘下帽子和墨镜</translation>
    </message>
    <message>
        <source>Show your boarding pass to the camera</source>
        <translation>请向摄像头出示登机牌</translation>
    </message>
    <message>
        <source>Sorry, this did not work</source>
        <translation>抱歉，未能完成</translation>
    </message>
    <message>
        <source>Sound on</source>
        <translation>打开声音</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Start again</source>
        <translation>重新开始</translation>
    </message>
    <message>
        <source>Take your passport</source>
        <translation>请取回护照</translation>
    </message>
    <message>
        <source>Take your passport with you</source>
        <translation>请带好您的护照</translation>
    </message>
    <message>
        <source>The gate opens when you have taken it</source>
        <translation>取回护照后，闸门将打开</translation>
    </message>
    <message>
        <source>The passport was taken away too early.</source>
        <translation>护照取走过早。</translation>
    </message>
    <message>
        <source>The time ran out.</source>
        <translation>操作超时。</translation>
    </message>
    <message>
        <source>This lane is out of order.</source>
        <translation>本通道暂停使用。</translation>
    </message>
    <message>
        <source>This takes a moment</source>
        <translation>请稍候</translation>
    </message>
    <message>
        <source>Time left: %1 s</source>
        <translation>剩余时间：%1 秒</translation>
    </message>
    <message>
        <source>Touch Start again to try once more.</source>
        <translation>请点击“重新开始”，再试一次。</translation>
    </message>
    <message>
        <source>Touch your language to start, or place your passport on the reader</source>
        <translation>请选择语言开始，或直接将护照放在阅读器上</translation>
    </message>
    <message>
        <source>Welcome</source>
        <translation>欢迎</translation>
    </message>
    <message>
        <source>Welcome to China</source>
        <translation>欢迎来到中国</translation>
    </message>
</context>
</TS>
