<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Traveller</name>
    <message>
        <source>Place your passport on the reader</source>
        <translation>请将护照放在阅读器上</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it face down</source>
        <translation>翻开护照资料页，资料页朝下放置</translation>
    </message>
    <message>
        <source>Reading your passport</source>
        <translation>正在读取护照</translation>
    </message>
    <message>
        <source>Please leave the passport on the reader</source>
        <translation>请勿移开护照</translation>
    </message>
    <message>
        <source>Checking your passport</source>
        <translation>正在核验护照</translation>
    </message>
    <message>
        <source>This takes a moment</source>
        <translation>请稍候</translation>
    </message>
    <message>
        <source>Checking your entry</source>
        <translation>正在办理入境核验</translation>
    </message>
    <message>
        <source>Please wait</source>
        <translation>请稍候</translation>
    </message>
    <message>
        <source>Please look at the camera</source>
        <translation>请注视摄像头</translation>
    </message>
    <message>
        <source>Please proceed through the gate</source>
        <translation>核验通过，请通行</translation>
    </message>
    <message>
        <source>Welcome to China</source>
        <translation>欢迎来到中国</translation>
    </message>
    <message>
        <source>Please see a border officer</source>
        <translation>请到人工通道办理</translation>
    </message>
    <message>
        <source>Sorry, we could not finish</source>
        <translation>抱歉，未能完成办理</translation>
    </message>
    <message>
        <source>The passport was removed too early. Please start again.</source>
        <translation>护照移开过早，请重新办理。</translation>
    </message>
    <message>
        <source>The time ran out. Please start again.</source>
        <translation>操作超时，请重新办理。</translation>
    </message>
    <message>
        <source>Please start again or see a border officer.</source>
        <translation>请重新办理或到人工通道办理。</translation>
    </message>
    <message>
        <source>Show your boarding pass to the camera</source>
        <translation>请将登机牌条码对准摄像头</translation>
    </message>
    <message>
        <source>Hold the barcode steady in front of the camera</source>
        <translation>请保持条码稳定</translation>
    </message>
    <message>
        <source>I have no boarding pass</source>
        <translation>我没有登机牌</translation>
    </message>
    <message>
        <source>Please step closer</source>
        <translation>请靠近一点</translation>
    </message>
    <message>
        <source>Please step back a little</source>
        <translation>请稍微后退</translation>
    </message>
    <message>
        <source>Please stand in the middle</source>
        <translation>请站在正中间</translation>
    </message>
    <message>
        <source>Please look straight at the camera</source>
        <translation>请正视摄像头</translation>
    </message>
    <message>
        <source>Please step into the light</source>
        <translation>请站到光线充足处</translation>
    </message>
    <message>
        <source>Please hold still</source>
        <translation>请保持不动</translation>
    </message>
    <message>
        <source>Please open your eyes</source>
        <translation>请睁开眼睛</translation>
    </message>
    <message>
        <source>One person at a time, please</source>
        <translation>请一人一次通行</translation>
    </message>
    <message>
        <source>Please blink</source>
        <translation>请眨眼</translation>
    </message>
    <message>
        <source>Please turn your head to the left</source>
        <translation>请向左转头</translation>
    </message>
    <message>
        <source>Please turn your head to the right</source>
        <translation>请向右转头</translation>
    </message>
</context>
</TS>
