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
        <source>Please step in front of the camera</source>
        <translation>请站到摄像头前</translation>
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
        <source>Please try again</source>
        <translation>请再试一次</translation>
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
    <message>
        <source>The passport&apos;s data page could not be read.</source>
        <translation>无法读取护照的资料页。</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it flat on the reader, out of bright light.</source>
        <translation>请将护照翻到照片页，平放在阅读器上，避开强光。</translation>
    </message>
</context>
<context>
    <name>Supervisor</name>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Admit</source>
        <translation>放行</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>警报</translation>
    </message>
    <message>
        <source>Arrived from</source>
        <translation>来自</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Carry out</source>
        <translation>执行</translation>
    </message>
    <message>
        <source>Choose a reason</source>
        <translation>请选择理由</translation>
    </message>
    <message>
        <source>Choose an action</source>
        <translation>请选择操作</translation>
    </message>
    <message>
        <source>Close the lane</source>
        <translation>关闭通道</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>Confirm the action</source>
        <translation>确认操作</translation>
    </message>
    <message>
        <source>Connection to the border database lost - retrying</source>
        <translation>与边检数据库的连接已断开，正在重试</translation>
    </message>
    <message>
        <source>Connection to the border database restored</source>
        <translation>与边检数据库的连接已恢复</translation>
    </message>
    <message>
        <source>Date of birth</source>
        <translation>出生日期</translation>
    </message>
    <message>
        <source>Date of expiry</source>
        <translation>有效期至</translation>
    </message>
    <message>
        <source>Device fault</source>
        <translation>设备故障</translation>
    </message>
    <message>
        <source>Device fault cleared</source>
        <translation>设备故障已排除</translation>
    </message>
    <message>
        <source>Document checked by hand and found genuine</source>
        <translation>已人工查验证件，确认为真</translation>
    </message>
    <message>
        <source>Document expired</source>
        <translation>证件已过期</translation>
    </message>
    <message>
        <source>Document expires before departure</source>
        <translation>证件在离境前到期</translation>
    </message>
    <message>
        <source>Document invalid or not genuine</source>
        <translation>证件无效或非真实证件</translation>
    </message>
    <message>
        <source>Document needs a manual examination</source>
        <translation>证件需人工查验</translation>
    </message>
    <message>
        <source>Document number</source>
        <translation>证件号码</translation>
    </message>
    <message>
        <source>Document type</source>
        <translation>证件类型</translation>
    </message>
    <message>
        <source>Document type not accepted</source>
        <translation>不接受该证件类型</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Entry basis</source>
        <translation>入境依据</translation>
    </message>
    <message>
        <source>Entry conditions not met</source>
        <translation>不符合入境条件</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Event log unavailable</source>
        <translation>事件日志不可用</translation>
    </message>
    <message>
        <source>Events not yet sent to the border</source>
        <translation>事件尚未上传至边检系统</translation>
    </message>
    <message>
        <source>Log rolled back</source>
        <translation>日志被回滚</translation>
    </message>
    <message>
        <source>Log forked</source>
        <translation>日志出现分叉</translation>
    </message>
    <message>
        <source>Log key missing</source>
        <translation>日志密钥缺失</translation>
    </message>
    <message>
        <source>Log key does not match</source>
        <translation>日志密钥不匹配</translation>
    </message>
    <message>
        <source>Log chain broken at the border</source>
        <translation>边检系统处日志链断裂</translation>
    </message>
    <message>
        <source>Event id used twice</source>
        <translation>事件编号重复使用</translation>
    </message>
    <message>
        <source>Border holds the kiosk's events</source>
        <translation>边检系统暂扣该终端的事件</translation>
    </message>
    <message>
        <source>Border stopped taking the kiosk's events</source>
        <translation>边检系统已停止接收该终端的事件</translation>
    </message>
    <message>
        <source>Kiosk found its log faulty</source>
        <translation>终端发现本地日志有误</translation>
    </message>
    <message>
        <source>Kiosk log differs from the border</source>
        <translation>终端日志与边检系统不一致</translation>
    </message>
    <message>
        <source>Kiosk outbox faulty</source>
        <translation>终端发件队列有误</translation>
    </message>
    <message>
        <source>Border refused the kiosk's events</source>
        <translation>边检系统拒收该终端的事件</translation>
    </message>
    <message>
        <source>Conflicting entry records</source>
        <translation>入境记录相互冲突</translation>
    </message>
    <message>
        <source>Border alert</source>
        <translation>边检系统警报</translation>
    </message>
    <message>
        <source>Log key rotated</source>
        <translation>日志密钥已更换</translation>
    </message>
    <message>
        <source>Acknowledge the border alert</source>
        <translation>确认边检系统警报</translation>
    </message>
    <message>
        <source>No border alert on this lane</source>
        <translation>该通道没有边检系统警报</translation>
    </message>
    <message>
        <source>Alert</source>
        <translation>警报</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Face does not match the passport photo</source>
        <translation>人脸与护照照片不符</translation>
    </message>
    <message>
        <source>Gate held open</source>
        <translation>闸门长时间未关</translation>
    </message>
    <message>
        <source>Gate open</source>
        <translation>闸门已开</translation>
    </message>
    <message>
        <source>Given names</source>
        <translation>名</translation>
    </message>
    <message>
        <source>Identity confirmed by the officer</source>
        <translation>民警已核实身份</translation>
    </message>
    <message>
        <source>Identity could not be confirmed</source>
        <translation>无法核实身份</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Issuing state</source>
        <translation>签发国</translation>
    </message>
    <message>
        <source>Kiosk</source>
        <translation>终端</translation>
    </message>
    <message>
        <source>Kiosk could not carry it out</source>
        <translation>终端无法执行</translation>
    </message>
    <message>
        <source>Kiosk fault</source>
        <translation>终端故障</translation>
    </message>
    <message>
        <source>Kiosk fault; traveller checked in person</source>
        <translation>终端故障，已当面查验旅客</translation>
    </message>
    <message>
        <source>Kiosk rejected the command</source>
        <translation>终端拒绝执行指令</translation>
    </message>
    <message>
        <source>Lane</source>
        <translation>通道</translation>
    </message>
    <message>
        <source>Lane error</source>
        <translation>通道错误</translation>
    </message>
    <message>
        <source>Lane not reporting</source>
        <translation>通道无上报</translation>
    </message>
    <message>
        <source>Lane staffed again</source>
        <translation>通道已恢复值守</translation>
    </message>
    <message>
        <source>Maintenance</source>
        <translation>维护</translation>
    </message>
    <message>
        <source>Maintenance finished</source>
        <translation>维护已完成</translation>
    </message>
    <message>
        <source>Nationality</source>
        <translation>国籍</translation>
    </message>
    <message>
        <source>Nationality not eligible</source>
        <translation>国籍不符合条件</translation>
    </message>
    <message>
        <source>Needs a second officer</source>
        <translation>需第二名民警确认</translation>
    </message>
    <message>
        <source>Needs an interview at the manual desk</source>
        <translation>需在人工通道询问</translation>
    </message>
    <message>
        <source>No basis for entry</source>
        <translation>无入境依据</translation>
    </message>
    <message>
        <source>No entry policy in force</source>
        <translation>无有效的入境政策</translation>
    </message>
    <message>
        <source>No entry record</source>
        <translation>无入境记录</translation>
    </message>
    <message>
        <source>No officer to supervise the lane</source>
        <translation>无民警值守该通道</translation>
    </message>
    <message>
        <source>No onward journey</source>
        <translation>无后续行程</translation>
    </message>
    <message>
        <source>Not a live face</source>
        <translation>非活体人脸</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Onward departure</source>
        <translation>后续航班起飞时间</translation>
    </message>
    <message>
        <source>Onward destination</source>
        <translation>后续目的地</translation>
    </message>
    <message>
        <source>Onward journey confirmed</source>
        <translation>后续行程已确认</translation>
    </message>
    <message>
        <source>Onward journey confirmed with the airline</source>
        <translation>已与航空公司确认后续行程</translation>
    </message>
    <message>
        <source>Onward journey not confirmed</source>
        <translation>后续行程未确认</translation>
    </message>
    <message>
        <source>Onward journey not to a third country</source>
        <translation>后续行程目的地不是第三国</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>待处理</translation>
    </message>
    <message>
        <source>Open the lane</source>
        <translation>开放通道</translation>
    </message>
    <message>
        <source>Other (explain)</source>
        <translation>其他（请说明）</translation>
    </message>
    <message>
        <source>Overstay</source>
        <translation>逾期停留</translation>
    </message>
    <message>
        <source>Passport left on the reader</source>
        <translation>护照遗留在阅读器上</translation>
    </message>
    <message>
        <source>Passport not taken back</source>
        <translation>护照未取回</translation>
    </message>
    <message>
        <source>Permitted to stay until</source>
        <translation>准许停留至</translation>
    </message>
    <message>
        <source>Port not designated for this entry</source>
        <translation>该口岸不适用此类入境</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Reasons</source>
        <translation>转交原因</translation>
    </message>
    <message>
        <source>Reference data out of date</source>
        <translation>参考数据已过期</translation>
    </message>
    <message>
        <source>Referred at</source>
        <translation>转交时间</translation>
    </message>
    <message>
        <source>Refuse</source>
        <translation>拒绝入境</translation>
    </message>
    <message>
        <source>Reset the lane</source>
        <translation>重置通道</translation>
    </message>
    <message>
        <source>Send to the manual desk</source>
        <translation>转人工通道</translation>
    </message>
    <message>
        <source>Sent, waiting for the kiosk</source>
        <translation>已发送，等待终端执行</translation>
    </message>
    <message>
        <source>Sex</source>
        <translation>性别</translation>
    </message>
    <message>
        <source>State</source>
        <translation>通道状态</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Stay exceeds the transit limit</source>
        <translation>停留时间超过过境期限</translation>
    </message>
    <message>
        <source>Surname</source>
        <translation>姓</translation>
    </message>
    <message>
        <source>The chip may be a copy</source>
        <translation>芯片可能为复制品</translation>
    </message>
    <message>
        <source>The document's signature did not verify</source>
        <translation>证件签名验证未通过</translation>
    </message>
    <message>
        <source>The kiosk's case data was invalid</source>
        <translation>自助终端的案件数据无效</translation>
    </message>
    <message>
        <source>The passport chip could not be read</source>
        <translation>无法读取护照芯片</translation>
    </message>
    <message>
        <source>The traveller asked for an officer</source>
        <translation>旅客要求民警协助</translation>
    </message>
    <message>
        <source>Traveller</source>
        <translation>旅客</translation>
    </message>
    <message>
        <source>Traveller in the lane</source>
        <translation>旅客正在通道内办理</translation>
    </message>
    <message>
        <source>Traveller left the lane</source>
        <translation>旅客已离开通道</translation>
    </message>
    <message>
        <source>Traveller stuck in the lane</source>
        <translation>旅客滞留在通道内</translation>
    </message>
    <message>
        <source>Traveller taking the passport back</source>
        <translation>旅客正在取回护照</translation>
    </message>
    <message>
        <source>Traveller waiting for an officer</source>
        <translation>旅客等待民警处理</translation>
    </message>
    <message>
        <source>Type the reason in your own words (at least 10 characters)</source>
        <translation>请用自己的话写明理由（至少10个字符）</translation>
    </message>
    <message>
        <source>Under the minimum age for the kiosk</source>
        <translation>未达到自助通关最低年龄</translation>
    </message>
    <message>
        <source>Unknown lane state</source>
        <translation>未知通道状态</translation>
    </message>
    <message>
        <source>Unknown state</source>
        <translation>未知状态</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>已等待</translation>
    </message>
    <message>
        <source>Waiting for an officer</source>
        <translation>等待民警处理</translation>
    </message>
    <message>
        <source>Watchlist hit</source>
        <translation>命中布控名单</translation>
    </message>
    <message>
        <source>Watchlist hit confirmed</source>
        <translation>已确认命中布控名单</translation>
    </message>
    <message>
        <source>Your words</source>
        <translation>补充说明</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
</context>
</TS>
