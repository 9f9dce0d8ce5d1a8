<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru">
<context>
    <name>Traveller</name>
    <message>
        <source>A passport was left on the reader</source>
        <translation>На считывателе оставлен паспорт</translation>
    </message>
    <message>
        <source>Arrivals</source>
        <translation>Въезд</translation>
    </message>
    <message>
        <source>Automated border control</source>
        <translation>Автоматический пограничный контроль</translation>
    </message>
    <message>
        <source>Boarding pass</source>
        <translation>Посадочный талон</translation>
    </message>
    <message>
        <source>Checking your departure</source>
        <translation>Оформляем выезд</translation>
    </message>
    <message>
        <source>Checking your entry</source>
        <translation>Оформляем въезд</translation>
    </message>
    <message>
        <source>Checking your passport</source>
        <translation>Проверяем паспорт</translation>
    </message>
    <message>
        <source>Departures</source>
        <translation>Выезд</translation>
    </message>
    <message>
        <source>Face</source>
        <translation>Лицо</translation>
    </message>
    <message>
        <source>Gate</source>
        <translation>Проход</translation>
    </message>
    <message>
        <source>Have a good journey</source>
        <translation>Счастливого пути</translation>
    </message>
    <message>
        <source>High contrast</source>
        <translation>Высокий контраст</translation>
    </message>
    <message>
        <source>Hold the barcode steady in front of the camera</source>
        <translation>Держите штрихкод неподвижно перед камерой</translation>
    </message>
    <message>
        <source>I have no boarding pass</source>
        <translation>У меня нет посадочного талона</translation>
    </message>
    <message>
        <source>If it is yours, please take it. Otherwise please tell an officer.</source>
        <translation>Если это ваш паспорт, заберите его. Если нет, сообщите сотруднику.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <source>Leave it on the reader until you are asked to take it.</source>
        <translation>Оставьте его на считывателе, пока вас не попросят забрать.</translation>
    </message>
    <message>
        <source>Look at the camera</source>
        <translation>Посмотрите в камеру</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>Без звука</translation>
    </message>
    <message>
        <source>One person at a time, please</source>
        <translation>Пожалуйста, по одному</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it face down</source>
        <translation>Откройте страницу с фотографией и положите её лицом вниз</translation>
    </message>
    <message>
        <source>Passport</source>
        <translation>Паспорт</translation>
    </message>
    <message>
        <source>Place your passport on the reader</source>
        <translation>Положите паспорт на считыватель</translation>
    </message>
    <message>
        <source>Please blink</source>
        <translation>Моргните</translation>
    </message>
    <message>
        <source>Please hold still</source>
        <translation>Не двигайтесь</translation>
    </message>
    <message>
        <source>Please leave the passport on the reader</source>
        <translation>Не убирайте паспорт со считывателя</translation>
    </message>
    <message>
        <source>Please step in front of the camera</source>
        <translation>Встаньте перед камерой</translation>
    </message>
    <message>
        <source>Please look straight at the camera</source>
        <translation>Смотрите прямо в камеру</translation>
    </message>
    <message>
        <source>Please open your eyes</source>
        <translation>Откройте глаза</translation>
    </message>
    <message>
        <source>Please see an officer</source>
        <translation>Обратитесь к сотруднику</translation>
    </message>
    <message>
        <source>Please stand in the middle</source>
        <translation>Встаньте по центру</translation>
    </message>
    <message>
        <source>Please step back a little</source>
        <translation>Отойдите немного назад</translation>
    </message>
    <message>
        <source>Please step closer</source>
        <translation>Подойдите ближе</translation>
    </message>
    <message>
        <source>Please step into the light</source>
        <translation>Встаньте туда, где светлее</translation>
    </message>
    <message>
        <source>Please turn your head to the left</source>
        <translation>Поверните голову влево</translation>
    </message>
    <message>
        <source>Please turn your head to the right</source>
        <translation>Поверните голову вправо</translation>
    </message>
    <message>
        <source>Please use another lane or see an officer.</source>
        <translation>Воспользуйтесь другим проходом или обратитесь к сотруднику.</translation>
    </message>
    <message>
        <source>Please wait</source>
        <translation>Пожалуйста, подождите</translation>
    </message>
    <message>
        <source>Please walk through the gate</source>
        <translation>Проходите, пожалуйста</translation>
    </message>
    <message>
        <source>Reading your passport</source>
        <translation>Считываем паспорт</translation>
    </message>
    <message>
        <source>Remove your hat and sunglasses</source>
        <translation>Снимите головной убор и солнцезащитные очки</translation>
    </message>
    <message>
        <source>Show your boarding pass to the camera</source>
        <translation>Покажите посадочный талон камере</translation>
    </message>
    <message>
        <source>Sorry, this did not work</source>
        <translation>К сожалению, не получилось</translation>
    </message>
    <message>
        <source>Please try again</source>
        <translation>Попробуйте ещё раз</translation>
    </message>
    <message>
        <source>Sound on</source>
        <translation>Включить звук</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>Начать</translation>
    </message>
    <message>
        <source>Start again</source>
        <translation>Начать заново</translation>
    </message>
    <message>
        <source>Take your passport</source>
        <translation>Заберите паспорт</translation>
    </message>
    <message>
        <source>Take your passport with you</source>
        <translation>Не забудьте паспорт</translation>
    </message>
    <message>
        <source>The gate opens when you have taken it</source>
        <translation>Когда вы заберёте паспорт, проход откроется</translation>
    </message>
    <message>
        <source>The passport was taken away too early.</source>
        <translation>Паспорт убрали слишком рано.</translation>
    </message>
    <message>
        <source>The time ran out.</source>
        <translation>Время истекло.</translation>
    </message>
    <message>
        <source>This lane is out of order.</source>
        <translation>Этот проход не работает.</translation>
    </message>
    <message>
        <source>This takes a moment</source>
        <translation>Это займёт немного времени</translation>
    </message>
    <message>
        <source>Time left: %1 s</source>
        <translation>Осталось: %1 с</translation>
    </message>
    <message>
        <source>Touch Start again to try once more.</source>
        <translation>Нажмите «Начать заново», чтобы попробовать ещё раз.</translation>
    </message>
    <message>
        <source>Touch your language to start, or place your passport on the reader</source>
        <translation>Выберите язык или положите паспорт на считыватель</translation>
    </message>
    <message>
        <source>Welcome</source>
        <translation>Добро пожаловать</translation>
    </message>
    <message>
        <source>Welcome to China</source>
        <translation>Добро пожаловать в Китай</translation>
    </message>
    <message>
        <source>The passport&apos;s data page could not be read.</source>
        <translation>Не удалось прочитать страницу паспорта с данными.</translation>
    </message>
    <message>
        <source>Open it at the photo page and lay it flat on the reader, out of bright light.</source>
        <translation>Откройте паспорт на странице с фотографией и положите его ровно на считыватель, вдали от яркого света.</translation>
    </message>
</context>
</TS>
