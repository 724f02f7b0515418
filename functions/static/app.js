/* The customer cabinet (issue 16): one script, no framework, no build step.
   The session is an HttpOnly cookie this script never sees; every call goes to the page's own path (API Gateway's
   stage, the emulator's path-style URL or a CDN alike). Text is built with DOM nodes, never parsed as markup. */
"use strict";

(function () {
  const BASE = location.pathname.replace(/\/+$/, "");
  const LANG_KEY = "cabinet.lang";
  const SCREENS = ["balance", "card", "history", "profile", "transfer"];

  const STR = {
    en: {
      language: "Language",
      logout: "Log out",
      nav: "Cabinet",
      loading: "Loading…",
      balance: "Balance",
      card: "Card",
      history: "History",
      profile: "Profile",
      transfer: "Transfer",
      rate: "Rate",
      loginTitle: "Log in",
      loginIntro: "Enter your phone number or e-mail: we will send you a code. No password needed.",
      loginIntroEmail: "Enter your e-mail: we will send you a code. No password needed.",
      joinHint: "New here? The same code makes you a member.",
      contact: "Phone or e-mail",
      contactEmail: "E-mail",
      contactHint: "A phone number with its country code, e.g. +7 999 123-45-67",
      getCode: "Get a code",
      codeSent: "We sent a code to {contact}. It is valid for {minutes} minutes.",
      code: "Code",
      codeHint: "6 digits",
      logIn: "Log in",
      resend: "Send the code again",
      resendIn: "Send again in {s} s",
      otherContact: "Use another phone or e-mail",
      available: "Available points",
      pending: "Pending",
      held: "Held",
      debt: "Debt",
      total: "Total",
      lots: "Your points and when they expire",
      noLots: "No points yet.",
      pendingUntil: "{points} become available on {date}",
      noExpiry: "{points}, no expiry",
      from: "from: {source}",
      tier: "Tier",
      noTier: "No tier yet",
      spent: "Spent: {money}",
      nextTier: "Spend {money} more to reach {tier}.",
      topTier: "You are in the top tier.",
      vip: "VIP",
      boost: "Boost is on until {date}: more points for every purchase.",
      referral: "Invite a friend",
      referralHint: "Your friend gives this code with their first order.",
      yourCode: "Your code",
      shareLink: "Share link",
      share: "Share",
      copy: "Copy",
      copied: "Copied.",
      shareText: "Join me at {shop}: my code is {code}",
      cardTitle: "Your card",
      cardHint: "Show this code at the checkout instead of a plastic card.",
      qrAlt: "QR code of your card",
      cardIssued: "Issued on {date}",
      rotate: "Replace the card",
      rotateWhy: "Lost your phone, or someone copied the code? Replace it: the old code stops working at once.",
      rotateConfirm: "The old code will stop working. Replace the card?",
      rotateYes: "Yes, replace",
      cancel: "Cancel",
      rotated: "Your card was replaced; the old code no longer works.",
      historyTitle: "History",
      noHistory: "Nothing here yet.",
      more: "Show more",
      rateOrder: "Rate this order",
      order: "Order {id}",
      message: "Message by {channel}",
      messageExpiry: "Reminder by {channel}: {points} expire on {date}",
      profileTitle: "About you",
      name: "Name",
      birthday: "Birthday",
      birthdayHint: "For the birthday bonus.",
      consentTitle: "You agree to receive",
      consent_email: "E-mails",
      consent_sms: "SMS",
      consent_call: "Calls",
      save: "Save",
      saved: "Saved.",
      contactsTitle: "Phone and e-mail",
      phone: "Phone",
      email: "E-mail",
      none: "not given",
      newContact: "New phone or e-mail",
      confirmContact: "Send a confirmation code",
      contactCodeSent: "We sent a code to {contact}. Enter it to confirm.",
      confirm: "Confirm",
      contactChanged: "Your contact was confirmed.",
      transferTitle: "Send points to a friend",
      transferHint: "You have {points} available.",
      to: "Friend's phone, e-mail or referral code",
      points: "Points",
      send: "Send points",
      sent: "Sent {points}. Your balance: {balance}.",
      feedbackTitle: "Rate your order",
      feedbackOrder: "Order {id}",
      score: "Your rating, from 1 (bad) to 5 (excellent)",
      comment: "Comment (optional)",
      sendFeedback: "Send",
      thanks: "Thank you for your feedback!",
      reward: "{points} were added to your balance.",
      backToHistory: "Back to the history",
      shopMissing: "This shop has no cabinet here.",
      offline: "No connection. Check it and try again.",
      failed: "Something went wrong. Try again in a moment.",
      points_one: "{n} point",
      points_other: "{n} points",
      expire_one: "{points} expires on {date}",
      expire_other: "{points} expire on {date}",
      errors: {
        invalid_code: "That code is wrong. Check it and try again.",
        code_expired: "The code has expired. Ask for a new one.",
        too_many_attempts: "Too many wrong codes. Ask for a new one.",
        resend_too_soon: "Wait a little before asking for another code.",
        too_many_codes: "Too many codes were sent. Try again later.",
        sms_not_available: "Codes by SMS are not available for this number. Use your e-mail.",
        not_logged_in: "Please log in.",
        validation_error: "Check the fields and try again.",
        insufficient_points: "You do not have that many points available.",
        recipient_not_found: "We found no member with that phone, e-mail or code.",
        self_transfer: "You cannot send points to yourself.",
        transfers_disabled: "This shop does not allow transfers.",
        transfer_limit_exceeded: "That is over this month's transfer limit.",
        points_not_yet_transferable: "These points cannot be sent yet.",
        cabinet_closed: "This shop's cabinet is closed for now.",
        tenant_not_found: "This shop has no cabinet here.",
        already_rated: "You have already rated this order.",
        feedback_exists: "You have already rated this order.",
        order_not_found: "We found no such order of yours.",
        contact_taken: "That contact belongs to another member.",
        rate_limited: "Too many requests. Try again in a moment.",
      },
      kinds: {
        earn: "Points for a purchase",
        redeem: "Points spent",
        reverse: "Order returned",
        restore: "Points restored",
        expire: "Points expired",
        activate: "Points became available",
        grant: "Bonus",
        referral: "Referral bonus",
        transfer_in: "Points from a friend",
        transfer_out: "Points sent to a friend",
        welcome: "Welcome bonus",
        feedback: "Thanks for your feedback",
        birthday: "Birthday bonus",
      },
      sources: {
        order: "a purchase", promo: "a promotion", refund: "a refund", grant: "a bonus", birthday: "birthday",
        referral: "a referral", transfer: "a friend", welcome: "welcome bonus", feedback: "feedback",
      },
      channels: { email: "e-mail", sms: "SMS", call: "call" },
    },
    ru: {
      language: "Язык",
      logout: "Выйти",
      nav: "Личный кабинет",
      loading: "Загрузка…",
      balance: "Баланс",
      card: "Карта",
      history: "История",
      profile: "Анкета",
      transfer: "Перевод",
      rate: "Оценить",
      loginTitle: "Вход",
      loginIntro: "Введите телефон или e-mail: мы пришлём код. Пароль не нужен.",
      loginIntroEmail: "Введите e-mail: мы пришлём код. Пароль не нужен.",
      joinHint: "Впервые у нас? Этот же код сделает вас участником программы.",
      contact: "Телефон или e-mail",
      contactEmail: "E-mail",
      contactHint: "Номер с кодом страны, например +7 999 123-45-67",
      getCode: "Получить код",
      codeSent: "Мы отправили код на {contact}. Он действует {minutes} мин.",
      code: "Код",
      codeHint: "6 цифр",
      logIn: "Войти",
      resend: "Отправить код ещё раз",
      resendIn: "Повторно через {s} с",
      otherContact: "Другой телефон или e-mail",
      available: "Доступно баллов",
      pending: "Ожидают",
      held: "Зарезервировано",
      debt: "Долг",
      total: "Всего",
      lots: "Ваши баллы и когда они сгорят",
      noLots: "Баллов пока нет.",
      pendingUntil: "{points} станут доступны {date}",
      noExpiry: "{points}, бессрочно",
      from: "за: {source}",
      tier: "Уровень",
      noTier: "Уровня пока нет",
      spent: "Покупок на {money}",
      nextTier: "Ещё {money} до уровня «{tier}».",
      topTier: "У вас высший уровень.",
      vip: "VIP",
      boost: "До {date} действует ускорение: больше баллов за каждую покупку.",
      referral: "Пригласите друга",
      referralHint: "Друг называет этот код при первой покупке.",
      yourCode: "Ваш код",
      shareLink: "Ссылка для друга",
      share: "Поделиться",
      copy: "Скопировать",
      copied: "Скопировано.",
      shareText: "Присоединяйся к {shop}: мой код {code}",
      cardTitle: "Ваша карта",
      cardHint: "Покажите этот код на кассе вместо пластиковой карты.",
      qrAlt: "QR-код вашей карты",
      cardIssued: "Выпущена {date}",
      rotate: "Заменить карту",
      rotateWhy: "Потеряли телефон или код кто-то скопировал? Замените карту: старый код сразу перестанет работать.",
      rotateConfirm: "Старый код перестанет работать. Заменить карту?",
      rotateYes: "Да, заменить",
      cancel: "Отмена",
      rotated: "Карта заменена, старый код больше не работает.",
      historyTitle: "История",
      noHistory: "Здесь пока ничего нет.",
      more: "Показать ещё",
      rateOrder: "Оценить этот заказ",
      order: "Заказ {id}",
      message: "Сообщение: {channel}",
      messageExpiry: "Напоминание ({channel}): {points} сгорят {date}",
      profileTitle: "О вас",
      name: "Имя",
      birthday: "День рождения",
      birthdayHint: "Для бонуса в день рождения.",
      consentTitle: "Вы согласны получать",
      consent_email: "Письма",
      consent_sms: "SMS",
      consent_call: "Звонки",
      save: "Сохранить",
      saved: "Сохранено.",
      contactsTitle: "Телефон и e-mail",
      phone: "Телефон",
      email: "E-mail",
      none: "не указан",
      newContact: "Новый телефон или e-mail",
      confirmContact: "Прислать код подтверждения",
      contactCodeSent: "Мы отправили код на {contact}. Введите его для подтверждения.",
      confirm: "Подтвердить",
      contactChanged: "Контакт подтверждён.",
      transferTitle: "Перевести баллы другу",
      transferHint: "Доступно: {points}.",
      to: "Телефон, e-mail или реферальный код друга",
      points: "Баллы",
      send: "Перевести",
      sent: "Переведено: {points}. Ваш баланс: {balance}.",
      feedbackTitle: "Оцените заказ",
      feedbackOrder: "Заказ {id}",
      score: "Ваша оценка, от 1 (плохо) до 5 (отлично)",
      comment: "Комментарий (необязательно)",
      sendFeedback: "Отправить",
      thanks: "Спасибо за отзыв!",
      reward: "Начислено: {points}.",
      backToHistory: "Вернуться к истории",
      shopMissing: "У этого магазина здесь нет личного кабинета.",
      offline: "Нет связи. Проверьте подключение и попробуйте снова.",
      failed: "Что-то пошло не так. Попробуйте чуть позже.",
      points_one: "{n} балл",
      points_few: "{n} балла",
      points_many: "{n} баллов",
      points_other: "{n} балла",
      expire_one: "{points} сгорит {date}",
      expire_other: "{points} сгорят {date}",
      errors: {
        invalid_code: "Неверный код. Проверьте и попробуйте снова.",
        code_expired: "Срок действия кода истёк. Запросите новый.",
        too_many_attempts: "Слишком много неверных попыток. Запросите новый код.",
        resend_too_soon: "Подождите немного, прежде чем запрашивать новый код.",
        too_many_codes: "Отправлено слишком много кодов. Попробуйте позже.",
        sms_not_available: "Коды по SMS на этот номер не отправляются. Используйте e-mail.",
        not_logged_in: "Войдите, пожалуйста.",
        validation_error: "Проверьте поля и попробуйте снова.",
        insufficient_points: "У вас нет столько доступных баллов.",
        recipient_not_found: "Участник с таким телефоном, e-mail или кодом не найден.",
        self_transfer: "Нельзя перевести баллы самому себе.",
        transfers_disabled: "Этот магазин не разрешает переводы.",
        transfer_limit_exceeded: "Это больше лимита переводов в этом месяце.",
        points_not_yet_transferable: "Эти баллы пока нельзя перевести.",
        cabinet_closed: "Личный кабинет магазина временно закрыт.",
        tenant_not_found: "У этого магазина здесь нет личного кабинета.",
        already_rated: "Вы уже оценили этот заказ.",
        feedback_exists: "Вы уже оценили этот заказ.",
        order_not_found: "Такой заказ не найден.",
        contact_taken: "Этот контакт принадлежит другому участнику.",
        rate_limited: "Слишком много запросов. Попробуйте чуть позже.",
      },
      kinds: {
        earn: "Баллы за покупку",
        redeem: "Списание баллов",
        reverse: "Возврат заказа",
        restore: "Баллы восстановлены",
        expire: "Баллы сгорели",
        activate: "Баллы стали доступны",
        grant: "Бонус",
        referral: "Бонус за друга",
        transfer_in: "Баллы от друга",
        transfer_out: "Перевод другу",
        welcome: "Приветственный бонус",
        feedback: "Спасибо за отзыв",
        birthday: "Бонус ко дню рождения",
      },
      sources: {
        order: "покупку", promo: "акцию", refund: "возврат", grant: "бонус", birthday: "день рождения",
        referral: "друга", transfer: "перевод", welcome: "приветственный бонус", feedback: "отзыв",
      },
      channels: { email: "e-mail", sms: "SMS", call: "звонок" },
    },
  };

  // -- state --------------------------------------------------------------------------------------------------------
  const state = {
    lang: "en",
    shop: null,
    me: null,
    card: null,
    history: { entries: [], next: null, loaded: false },
    login: { step: "contact", contact: "", until: 0 },
    contactChange: { step: "contact", contact: "" },
    transferId: null,
    rateOrder: new URLSearchParams(location.search).get("rate"),
    confirmRotate: false,
    timer: null,
  };
  const $ = (id) => document.getElementById(id);

  // -- text ---------------------------------------------------------------------------------------------------------
  function t(key, vars) {
    const table = STR[state.lang];
    let text = key.split(".").reduce((o, k) => (o ? o[k] : undefined), table);
    if (text === undefined) text = key.split(".").reduce((o, k) => (o ? o[k] : undefined), STR.en);
    if (text === undefined) return key;
    return String(text).replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? vars[name] : ""));
  }
  const locale = () => (state.lang === "ru" ? "ru-RU" : "en-GB");
  const num = (n) => new Intl.NumberFormat(locale()).format(n);
  function plural(key, n, vars) {
    const form = new Intl.PluralRules(locale()).select(n);
    const table = STR[state.lang];
    const chosen = table[key + "_" + form] !== undefined ? key + "_" + form : key + "_other";
    return t(chosen, Object.assign({ n: num(n) }, vars));
  }
  const pts = (n) => plural("points", n);
  function date(iso) {
    const d = new Date(iso);
    const options = { day: "numeric", month: "long" };
    if (d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
    return new Intl.DateTimeFormat(locale(), options).format(d);
  }
  const dateTime = (iso) =>
    new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  function money(minor) {
    const currency = (state.me && state.me.currency) || (state.shop && state.shop.currency) || "";
    if (!/^[A-Z]{3}$/.test(currency)) return num(minor / 100);
    const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    const scale = Math.pow(10, digits);
    const options = { style: "currency", currency, currencyDisplay: "narrowSymbol" };
    if (minor % scale === 0) options.minimumFractionDigits = options.maximumFractionDigits = 0;
    return new Intl.NumberFormat(locale(), options).format(minor / scale);
  }

  // -- DOM ----------------------------------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (name === "text") el.textContent = value;
      else if (value === true) el.setAttribute(name, "");
      else el.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  let uid = 0;
  function field(label, attrs, hint) {
    const id = attrs.id || "f" + ++uid;
    const hintId = hint ? id + "-hint" : null;
    const input = h(attrs.tag || "input", Object.assign({}, attrs, { id, tag: null, "aria-describedby": hintId }));
    return [h("label", { for: id, text: label }), input, hint ? h("p", { class: "hint", id: hintId, text: hint }) : null];
  }
  function alertError(message) {
    const box = $("alert");
    box.textContent = "";
    if (message) box.textContent = message;
  }
  function say(message) {
    const box = $("status");
    box.textContent = "";
    // a fresh node, so that the same message said twice is announced twice
    setTimeout(() => { box.textContent = message; }, 50);
  }
  function busy(form, on) {
    for (const el of form.querySelectorAll("button, input, textarea, select")) el.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // -- API ----------------------------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message || code);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }
  async function api(method, path, body) {
    let response;
    try {
      response = await fetch(BASE + path, {
        method,
        credentials: "same-origin",
        cache: "no-store",
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new ApiError(0, "offline", t("offline"));
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const error = (data && data.error) || {};
      const retry = parseInt(response.headers.get("Retry-After") || "0", 10) || 0;
      throw new ApiError(response.status, error.code || "http_" + response.status, error.message, retry);
    }
    return data;
  }
  function explain(error) {
    if (!(error instanceof ApiError)) return t("failed");
    if (error.code === "offline") return t("offline");
    const known = STR[state.lang].errors[error.code];
    if (known) return known;
    if (error.status === 429) return t("errors.rate_limited");
    if (error.status >= 500) return t("failed");
    return error.message || t("failed");
  }
  // Every failure of a logged-in call: a lost session shows the login; anything else is said in the live region.
  function fail(error) {
    if (error instanceof ApiError && error.status === 401) {
      state.me = null;
      showLogin(t("errors.not_logged_in"));
      return;
    }
    alertError(explain(error));
  }
  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // -- frame: title, colour, language, navigation ---------------------------------------------------------------------
  function contrastText(hex) {
    const channel = (i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    const lum = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // WCAG contrast against white (1.0) and black (0.0): the larger wins
    return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 ? "#ffffff" : "#000000";
  }
  function applyShop() {
    const shop = state.shop;
    if (!shop) return;
    const colour = /^#[0-9a-fA-F]{6}$/.test(shop.colour || "") ? shop.colour : "#0b6e4f";
    document.documentElement.style.setProperty("--brand", colour);
    document.documentElement.style.setProperty("--on-brand", contrastText(colour));
    $("title").textContent = shop.title || shop.tenant_id;
  }
  function frame(screen) {
    document.documentElement.lang = state.lang;
    $("lang").value = state.lang;
    $("lang-label").textContent = t("language");
    $("logout").textContent = t("logout");
    $("logout").hidden = !state.me;
    const nav = $("nav");
    nav.hidden = !state.me;
    nav.setAttribute("aria-label", t("nav"));
    nav.textContent = "";
    for (const name of SCREENS) {
      nav.append(h("a", { href: "#" + name, "aria-current": name === screen ? "page" : null, text: t(name) }));
    }
    const shopName = (state.shop && (state.shop.title || state.shop.tenant_id)) || "";
    document.title = [t(screen === "login" ? "loginTitle" : screen === "rate" ? "feedbackTitle" : screen), shopName]
      .filter(Boolean)
      .join(" · ");
  }
  // Replace the main area with a screen; focus its heading so a screen reader starts there.
  function show(screen, ...nodes) {
    frame(screen);
    const main = $("main");
    main.textContent = "";
    main.append(...nodes);
    const heading = main.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }

  // -- login ----------------------------------------------------------------------------------------------------------
  function showLogin(message) {
    stopTimer();
    const shop = state.shop || {};
    const sms = shop.sms_login !== false;
    if (state.login.step === "code") {
      show("login", loginCodeForm());
      const code = $("login-code");
      if (code) code.focus();
    } else {
      show(
        "login",
        h(
          "section",
          { class: "card", "aria-labelledby": "login-h" },
          h("h2", { id: "login-h", text: t("loginTitle") }),
          h("p", { text: t(sms ? "loginIntro" : "loginIntroEmail") }),
          shop.self_enrolment ? h("p", { class: "muted", text: t("joinHint") }) : null,
          h(
            "form",
            { id: "login-form", novalidate: true, onsubmit: requestCode },
            field(t(sms ? "contact" : "contactEmail"), {
              id: "login-contact",
              type: sms ? "text" : "email",
              name: "contact",
              autocomplete: sms ? "username" : "email",
              inputmode: sms ? null : "email",
              required: true,
              maxlength: "254",
              value: state.login.contact,
            }, sms ? t("contactHint") : null),
            h("button", { type: "submit", class: "primary", text: t("getCode") })
          )
        )
      );
    }
    alertError(message || "");
  }
  function loginCodeForm() {
    return h(
      "section",
      { class: "card", "aria-labelledby": "login-h" },
      h("h2", { id: "login-h", text: t("loginTitle") }),
      h("p", { text: t("codeSent", { contact: state.login.contact, minutes: state.login.minutes || 10 }) }),
      h(
        "form",
        { id: "code-form", novalidate: true, onsubmit: verifyCode },
        field(t("code"), {
          id: "login-code",
          type: "text",
          name: "code",
          inputmode: "numeric",
          autocomplete: "one-time-code",
          pattern: "[0-9]{6}",
          maxlength: "6",
          required: true,
        }, t("codeHint")),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "submit", class: "primary", text: t("logIn") }),
          h("button", { type: "button", id: "resend", onclick: resendCode, text: t("resend") })
        ),
        h("button", { type: "button", class: "link", onclick: otherContact, text: t("otherContact") })
      )
    );
  }
  function startTimer(seconds) {
    state.login.until = Date.now() + seconds * 1000;
    tick();
    stopTimer();
    state.timer = setInterval(tick, 1000);
  }
  function stopTimer() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }
  function tick() {
    const button = $("resend");
    if (!button) return;
    const left = Math.ceil((state.login.until - Date.now()) / 1000);
    button.disabled = left > 0;
    button.textContent = left > 0 ? t("resendIn", { s: left }) : t("resend");
    if (left <= 0) stopTimer();
  }
  async function askCode(contact, form) {
    if (form) busy(form, true);
    try {
      const answer = await api("POST", "/login", { contact });
      state.login = { step: "code", contact, minutes: Math.round(answer.expires_in_seconds / 60), until: 0 };
      showLogin();
      startTimer(answer.resend_after_seconds || 60);
      say(t("codeSent", { contact, minutes: state.login.minutes }));
    } catch (error) {
      if (form) busy(form, false);
      if (error.code === "resend_too_soon" && error.retryAfter) startTimer(error.retryAfter);
      alertError(explain(error));
    }
  }
  function requestCode(event) {
    event.preventDefault();
    const contact = $("login-contact").value.trim();
    if (!contact) {
      alertError(t("errors.validation_error"));
      $("login-contact").focus();
      return;
    }
    state.login.contact = contact;
    askCode(contact, event.target);
  }
  function resendCode() {
    askCode(state.login.contact, null);
  }
  function otherContact() {
    state.login = { step: "contact", contact: state.login.contact, until: 0 };
    showLogin();
  }
  async function verifyCode(event) {
    event.preventDefault();
    const form = event.target;
    const code = $("login-code").value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(code)) {
      alertError(t("codeHint"));
      $("login-code").focus();
      return;
    }
    busy(form, true);
    try {
      await api("POST", "/verify", { contact: state.login.contact, code });
      state.login = { step: "contact", contact: "", until: 0 };
      stopTimer();
      alertError("");
      await loadMe();
      route();
    } catch (error) {
      busy(form, false);
      tick();
      alertError(explain(error));
      const input = $("login-code");
      if (input && ["code_expired", "too_many_attempts"].includes(error.code)) input.value = "";
      if (input) input.focus();
    }
  }
  async function logout() {
    try { await api("POST", "/logout", {}); } catch (error) { /* the cookie is gone or the server is: log in again */ }
    state.me = null;
    state.card = null;
    state.history = { entries: [], next: null, loaded: false };
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    showLogin();
  }

  // -- balance ------------------------------------------------------------------------------------------------------
  async function loadMe() {
    state.me = await api("GET", "/me");
    return state.me;
  }
  function lotLine(lot) {
    const now = Date.now();
    const points = pts(lot.remaining);
    let text;
    if (lot.available_at && Date.parse(lot.available_at) > now) text = t("pendingUntil", { points, date: date(lot.available_at) });
    else if (lot.expires_at) text = plural("expire", lot.remaining, { points, date: date(lot.expires_at) });
    else text = t("noExpiry", { points });
    const source = STR[state.lang].sources[lot.source] || lot.source;
    return h("li", { class: "lot" }, h("div", { text }), h("div", { class: "muted", text: t("from", { source }) }));
  }
  function tierCard(me) {
    const next = me.next_tier;
    let progress = null;
    if (next && next.spend_needed_minor > 0) {
      const share = me.tier_spend_minor / (me.tier_spend_minor + next.spend_needed_minor);
      const bar = h("span");
      bar.style.width = Math.max(2, Math.round(share * 100)) + "%";
      progress = h("div", { class: "progress", "aria-hidden": "true" }, bar);
    }
    return h(
      "section",
      { class: "card", "aria-labelledby": "tier-h" },
      h("h3", { id: "tier-h", text: t("tier") }),
      h("p", {}, h("strong", { text: me.tier || t("noTier") }), " ", me.vip ? h("span", { class: "badge", text: t("vip") }) : null),
      h("p", { class: "muted", text: t("spent", { money: money(me.tier_spend_minor || 0) }) }),
      progress,
      next ? h("p", { text: t("nextTier", { money: money(next.spend_needed_minor), tier: next.name }) })
        : me.tier ? h("p", { text: t("topTier") }) : null,
      me.boost_until && Date.parse(me.boost_until) > Date.now()
        ? h("p", { class: "ok", text: t("boost", { date: date(me.boost_until) }) })
        : null
    );
  }
  function shareLink(me) {
    if (me.share_link) return me.share_link;
    return location.origin + location.pathname;
  }
  function referralCard(me) {
    if (!me.referral_code) return null;
    const link = shareLink(me);
    const shop = (state.shop && (state.shop.title || state.shop.tenant_id)) || "";
    const text = t("shareText", { shop, code: me.referral_code });
    async function share() {
      try {
        if (navigator.share) {
          await navigator.share({ title: shop, text, url: link });
          return;
        }
        await navigator.clipboard.writeText(text + " " + link);
        say(t("copied"));
      } catch (error) {
        if (error && error.name === "AbortError") return;
        $("share-link").select();
      }
    }
    return h(
      "section",
      { class: "card wide", "aria-labelledby": "ref-h" },
      h("h3", { id: "ref-h", text: t("referral") }),
      h("p", { class: "muted", text: t("referralHint") }),
      h("p", {}, t("yourCode") + ": ", h("span", { class: "code", id: "referral-code", text: me.referral_code })),
      h("label", { for: "share-link", text: t("shareLink") }),
      h(
        "div",
        { class: "share" },
        h("input", { id: "share-link", type: "text", readonly: true, value: link }),
        h("button", { type: "button", onclick: share, text: navigator.share ? t("share") : t("copy") })
      )
    );
  }
  function renderBalance() {
    const me = state.me;
    const figures = [["pending", me.pending], ["held", me.held], ["debt", me.debt], ["total", me.balance]];
    const lots = me.lots || [];
    show(
      "balance",
      h("h2", { id: "balance-h", text: t("balance") }),
      h(
        "div",
        { class: "grid" },
        h(
          "section",
          { class: "card wide", "aria-labelledby": "balance-h" },
          h("p", { class: "muted", text: t("available") }),
          h("p", { class: "big", id: "available", text: num(me.available) }),
          h(
            "dl",
            { class: "figures" },
            figures.filter(([k, v]) => v || k === "total").map(([k, v]) =>
              h("div", {}, h("dt", { text: t(k) }), h("dd", { text: num(v) })))
          )
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "lots-h" },
          h("h3", { id: "lots-h", text: t("lots") }),
          lots.length ? h("ul", { class: "plain", id: "lots" }, lots.map(lotLine)) : h("p", { text: t("noLots") })
        ),
        tierCard(me),
        referralCard(me)
      )
    );
  }

  // -- card ---------------------------------------------------------------------------------------------------------
  async function showCard() {
    show("card", h("h2", { text: t("cardTitle") }), h("p", { class: "loading", text: t("loading") }));
    try {
      state.card = await api("GET", "/me/card");
      renderCard();
    } catch (error) {
      fail(error);
    }
  }
  function qrImage(svg) {
    // as an image, not inline markup: no script or style of the SVG can run (CSP img-src data:); an SVG file, unlike
    // SVG inline in HTML, needs its namespace
    if (!/^<svg[^>]*\sxmlns=/.test(svg)) svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
    return h("img", {
      class: "qr",
      id: "qr",
      alt: t("qrAlt"),
      src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg),
    });
  }
  function renderCard() {
    const card = state.card;
    const confirming = state.confirmRotate;
    show(
      "card",
      h("h2", { text: t("cardTitle") }),
      h(
        "section",
        { class: "card" },
        h("p", { text: t("cardHint") }),
        qrImage(card.qr_svg),
        h("p", { class: "token", id: "card-token", text: card.token }),
        card.rotated_at ? h("p", { class: "muted", text: t("cardIssued", { date: date(card.rotated_at) }) }) : null
      ),
      h(
        "section",
        { class: "card" },
        h("p", { text: t("rotateWhy") }),
        confirming
          ? h(
            "div",
            { role: "group", "aria-labelledby": "rotate-q" },
            h("p", { id: "rotate-q" }, h("strong", { text: t("rotateConfirm") })),
            h(
              "div",
              { class: "actions" },
              h("button", { type: "button", id: "rotate-yes", class: "primary", onclick: rotate, text: t("rotateYes") }),
              h("button", { type: "button", id: "rotate-no", onclick: () => confirmRotate(false), text: t("cancel") })
            )
          )
          : h("button", { type: "button", id: "rotate", onclick: () => confirmRotate(true), text: t("rotate") })
      )
    );
    const target = confirming ? $("rotate-yes") : null;
    if (target) target.focus();
  }
  function confirmRotate(on) {
    state.confirmRotate = on;
    renderCard();
    if (!on) $("rotate").focus();
  }
  async function rotate(event) {
    event.target.disabled = true;
    try {
      state.card = await api("POST", "/me/card/rotate", {});
      state.confirmRotate = false;
      renderCard();
      say(t("rotated"));
      $("rotate").focus();
    } catch (error) {
      event.target.disabled = false;
      fail(error);
    }
  }

  // -- history ------------------------------------------------------------------------------------------------------
  async function showHistory(more) {
    if (!more) {
      show("history", h("h2", { text: t("historyTitle") }), h("p", { class: "loading", text: t("loading") }));
    }
    try {
      const cursor = more ? state.history.next : null;
      const query = "?limit=25" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      const page = await api("GET", "/me/history" + query);
      const entries = more ? state.history.entries.concat(page.entries) : page.entries;
      state.history = { entries, next: page.next_cursor || null, loaded: true };
      renderHistory();
    } catch (error) {
      fail(error);
    }
  }
  function entryLine(entry) {
    const d = entry.details || {};
    let title;
    if (entry.kind === "notification") {
      const channel = STR[state.lang].channels[d.channel] || d.channel || "";
      title = d.expiry_date && d.points
        ? t("messageExpiry", { channel, points: pts(d.points), date: date(d.expiry_date) })
        : t("message", { channel });
    } else {
      title = STR[state.lang].kinds[entry.kind] || entry.kind;
    }
    const delta = entry.delta || 0;
    const rateable = entry.kind === "earn" && entry.reference && delta > 0;
    return h(
      "li",
      { class: "entry", "data-kind": entry.kind },
      h(
        "div",
        { class: "row" },
        h("span", { text: title }),
        delta ? h("span", { class: delta > 0 ? "plus" : "minus", text: (delta > 0 ? "+" : "−") + num(Math.abs(delta)) }) : null
      ),
      h(
        "div",
        { class: "row muted" },
        h("span", { text: dateTime(entry.created_at) }),
        entry.kind === "earn" && entry.reference ? h("span", { text: t("order", { id: entry.reference }) }) : null
      ),
      rateable
        ? h("button", {
          type: "button",
          class: "small rate",
          "data-order": entry.reference,
          "aria-label": t("rateOrder") + ": " + entry.reference,
          onclick: () => openRating(entry.reference),
          text: t("rate"),
        })
        : null
    );
  }
  function renderHistory() {
    const list = state.history.entries;
    show(
      "history",
      h("h2", { text: t("historyTitle") }),
      h(
        "section",
        { class: "card" },
        list.length ? h("ul", { class: "plain", id: "history" }, list.map(entryLine)) : h("p", { text: t("noHistory") }),
        state.history.next ? h("button", { type: "button", id: "more", onclick: () => showHistory(true), text: t("more") }) : null
      )
    );
  }

  // -- profile ------------------------------------------------------------------------------------------------------
  function renderProfile() {
    const me = state.me;
    const consent = me.consent || {};
    const change = state.contactChange;
    show(
      "profile",
      h("h2", { text: t("profileTitle") }),
      h(
        "form",
        { class: "card", id: "profile-form", novalidate: true, onsubmit: saveProfile },
        field(t("name"), { id: "name", type: "text", name: "name", autocomplete: "name", maxlength: "100", value: me.name || "" }),
        field(t("birthday"), { id: "birthday", type: "date", name: "birthday", autocomplete: "bday", value: me.birthday || "" }, t("birthdayHint")),
        h(
          "fieldset",
          {},
          h("legend", { text: t("consentTitle") }),
          ["email", "sms", "call"].map((channel) =>
            h(
              "label",
              { class: "check" },
              h("input", { type: "checkbox", id: "consent-" + channel, name: channel, checked: !!consent[channel] }),
              t("consent_" + channel)
            ))
        ),
        h("button", { type: "submit", class: "primary", text: t("save") })
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "contacts-h" },
        h("h3", { id: "contacts-h", text: t("contactsTitle") }),
        h("p", {}, t("phone") + ": ", h("span", { id: "my-phone", text: me.phone || t("none") })),
        h("p", {}, t("email") + ": ", h("span", { id: "my-email", text: me.email || t("none") })),
        change.step === "code"
          ? h(
            "form",
            { id: "contact-code-form", novalidate: true, onsubmit: confirmContact },
            h("p", { text: t("contactCodeSent", { contact: change.contact }) }),
            field(t("code"), { id: "contact-code", type: "text", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true }, t("codeHint")),
            h("div", { class: "actions" },
              h("button", { type: "submit", class: "primary", text: t("confirm") }),
              h("button", { type: "button", onclick: () => { state.contactChange = { step: "contact", contact: "" }; renderProfile(); }, text: t("cancel") }))
          )
          : h(
            "form",
            { id: "contact-form", novalidate: true, onsubmit: requestContactCode },
            field(t("newContact"), { id: "new-contact", type: "text", autocomplete: "off", maxlength: "254", required: true }),
            h("button", { type: "submit", text: t("confirmContact") })
          )
      )
    );
  }
  async function saveProfile(event) {
    event.preventDefault();
    const form = event.target;
    const body = {
      name: $("name").value.trim() || null,
      consent: { email: $("consent-email").checked, sms: $("consent-sms").checked, call: $("consent-call").checked },
    };
    const birthday = $("birthday").value;
    if (birthday) body.birthday = birthday;
    busy(form, true);
    try {
      const profile = await api("PUT", "/me/profile", body);
      Object.assign(state.me, profile || {});
      busy(form, false);
      alertError("");
      say(t("saved"));
    } catch (error) {
      busy(form, false);
      fail(error);
    }
  }
  async function requestContactCode(event) {
    event.preventDefault();
    const contact = $("new-contact").value.trim();
    if (!contact) {
      alertError(t("errors.validation_error"));
      return;
    }
    busy(event.target, true);
    try {
      await api("POST", "/me/contact", { contact });
      state.contactChange = { step: "code", contact };
      renderProfile();
      $("contact-code").focus();
      alertError("");
    } catch (error) {
      busy(event.target, false);
      fail(error);
    }
  }
  async function confirmContact(event) {
    event.preventDefault();
    const code = $("contact-code").value.replace(/\s+/g, "");
    busy(event.target, true);
    try {
      const profile = await api("POST", "/me/contact/verify", { contact: state.contactChange.contact, code });
      Object.assign(state.me, profile || {});
      state.contactChange = { step: "contact", contact: "" };
      renderProfile();
      say(t("contactChanged"));
    } catch (error) {
      busy(event.target, false);
      fail(error);
    }
  }

  // -- transfer -----------------------------------------------------------------------------------------------------
  function renderTransfer() {
    state.transferId = null;
    show(
      "transfer",
      h("h2", { text: t("transferTitle") }),
      h(
        "form",
        { class: "card", id: "transfer-form", novalidate: true, onsubmit: sendTransfer, oninput: () => { state.transferId = null; } },
        h("p", { id: "transfer-available", text: t("transferHint", { points: pts(state.me.available) }) }),
        field(t("to"), { id: "transfer-to", type: "text", autocomplete: "off", maxlength: "254", required: true }),
        field(t("points"), { id: "transfer-points", type: "number", inputmode: "numeric", min: "1", step: "1", required: true }),
        h("button", { type: "submit", class: "primary", text: t("send") }),
        h("p", { id: "transfer-result", class: "ok" })
      )
    );
  }
  async function sendTransfer(event) {
    event.preventDefault();
    const form = event.target;
    const to = $("transfer-to").value.trim();
    const points = parseInt($("transfer-points").value, 10);
    if (!to || !(points > 0)) {
      alertError(t("errors.validation_error"));
      return;
    }
    // one id per submission, kept while the answer is unknown (offline, 5xx) so that a retry cannot send twice
    if (!state.transferId) state.transferId = newId();
    busy(form, true);
    try {
      const done = await api("POST", "/me/transfers", { transfer_id: state.transferId, to, points });
      state.transferId = null;
      busy(form, false);
      form.reset();
      alertError("");
      const balance = done.from_balance !== undefined ? done.from_balance : done.balance;
      const message = t("sent", { points: pts(points), balance: pts(balance) });
      $("transfer-result").textContent = message;
      say(message);
      await loadMe();
      $("transfer-available").textContent = t("transferHint", { points: pts(state.me.available) });
    } catch (error) {
      if (error.status && error.status < 500) state.transferId = null;
      busy(form, false);
      fail(error);
    }
  }

  // -- feedback -----------------------------------------------------------------------------------------------------
  function openRating(orderId) {
    state.rateOrder = orderId;
    if (location.hash === "#rate") route();
    else location.hash = "rate";
  }
  function renderRating() {
    const order = state.rateOrder;
    show(
      "rate",
      h("h2", { text: t("feedbackTitle") }),
      h(
        "form",
        { class: "card", id: "feedback-form", novalidate: true, onsubmit: sendFeedback },
        h("p", { id: "feedback-order", text: t("feedbackOrder", { id: order }) }),
        h(
          "fieldset",
          {},
          h("legend", { text: t("score") }),
          h("div", { class: "scores" },
            [1, 2, 3, 4, 5].map((n) =>
              h("label", {}, h("input", { type: "radio", name: "score", value: String(n), id: "score-" + n, required: true }), h("span", { text: String(n) }))))
        ),
        field(t("comment"), { tag: "textarea", id: "comment", name: "comment", maxlength: "1000", rows: "4" }),
        h("button", { type: "submit", class: "primary", text: t("sendFeedback") })
      )
    );
  }
  async function sendFeedback(event) {
    event.preventDefault();
    const form = event.target;
    const chosen = form.querySelector("input[name=score]:checked");
    if (!chosen) {
      alertError(t("score"));
      $("score-1").focus();
      return;
    }
    const body = { order_id: state.rateOrder, score: parseInt(chosen.value, 10) };
    const comment = $("comment").value.trim();
    if (comment) body.comment = comment;
    busy(form, true);
    try {
      const rated = await api("POST", "/me/feedback", body);
      alertError("");
      const reward = rated && rated.reward_points > 0 ? t("reward", { points: pts(rated.reward_points) }) : null;
      if (new URLSearchParams(location.search).has("rate")) history.replaceState(null, "", location.pathname + "#rate");
      show(
        "rate",
        h("h2", { text: t("thanks") }),
        reward ? h("p", { class: "ok", id: "reward", text: reward }) : null,
        h("p", {}, h("a", { href: "#history", id: "back-to-history", text: t("backToHistory") }))
      );
      state.rateOrder = null;
    } catch (error) {
      busy(form, false);
      fail(error);
    }
  }

  // -- routing ------------------------------------------------------------------------------------------------------
  function route() {
    stopTimer();
    alertError("");
    if (!state.me) {
      showLogin();
      return;
    }
    let screen = location.hash.slice(1);
    if (state.rateOrder && (screen === "rate" || !screen)) return renderRating();
    if (!SCREENS.includes(screen)) screen = "balance";
    if (screen === "balance") renderBalance();
    else if (screen === "card") showCard();
    else if (screen === "history") showHistory(false);
    else if (screen === "profile") renderProfile();
    else if (screen === "transfer") renderTransfer();
  }
  function rerender() {
    if (state.me) {
      const screen = location.hash.slice(1);
      if (screen === "card" && state.card) renderCard();
      else if (screen === "history" && state.history.loaded) renderHistory();
      else route();
    } else {
      showLogin();
    }
  }

  async function start() {
    const saved = (() => { try { return localStorage.getItem(LANG_KEY); } catch (e) { return null; } })();
    try {
      state.shop = await api("GET", "/shop");
    } catch (error) {
      state.lang = STR[saved] ? saved : (navigator.language || "en").slice(0, 2) === "ru" ? "ru" : "en";
      frame("login");
      $("main").textContent = "";
      $("main").append(h("p", { text: error.status === 404 ? t("shopMissing") : explain(error) }));
      return;
    }
    state.lang = STR[saved] ? saved : STR[state.shop.language] ? state.shop.language : "en";
    applyShop();
    try {
      await loadMe();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) alertError(explain(error));
      state.me = null;
    }
    route();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("lang").addEventListener("change", (event) => {
      state.lang = STR[event.target.value] ? event.target.value : "en";
      try { localStorage.setItem(LANG_KEY, state.lang); } catch (e) { /* private mode: this visit only */ }
      rerender();
      $("lang").focus();
    });
    $("logout").addEventListener("click", logout);
    window.addEventListener("hashchange", route);
    start();
  });
})();
