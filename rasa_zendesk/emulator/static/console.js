// Agent console of the Zendesk Conversations emulator: polls the control API, acts as the agent.
"use strict";

(function () {
  const POLL_MS = 1000;
  const TYPING_IDLE_MS = 3000;
  const NAME_KEY = "rasa-zendesk-emulator.agentName";

  const $ = (id) => document.getElementById(id);
  const el = {
    agentName: $("agent-name"),
    connection: $("connection"),
    queue: $("queue"),
    queueEmpty: $("queue-empty"),
    solved: $("solved-list"),
    openCount: $("open-count"),
    conversation: $("conversation"),
    placeholder: $("placeholder"),
    title: $("conversation-title"),
    sub: $("conversation-sub"),
    metadata: $("handoff-metadata"),
    transcript: $("transcript"),
    composer: $("composer"),
    reply: $("reply-input"),
    send: $("send-button"),
    imageUrl: $("image-url"),
    sendImage: $("send-image"),
    fileUrl: $("file-url"),
    sendFile: $("send-file"),
    quickText: $("quick-text"),
    quickReplies: $("quick-replies"),
    sendQuickReplies: $("send-quick-replies"),
    linkText: $("link-text"),
    linkButtonText: $("link-button-text"),
    linkUri: $("link-uri"),
    sendLink: $("send-link"),
    locationLat: $("location-lat"),
    locationLong: $("location-long"),
    locationName: $("location-name"),
    sendLocation: $("send-location"),
    sendCarousel: $("send-carousel"),
    solve: $("solve-button"),
    close: $("close-button"),
    email: $("email-button"),
    app: $("conversation-app"),
    ticket: $("ticket"),
    ticketId: $("ticket-id"),
    ticketStatus: $("ticket-status"),
    ticketSubject: $("ticket-subject"),
    ticketTags: $("ticket-tags"),
    ticketFields: $("ticket-fields"),
    error: $("console-error"),
    handoffState: $("handoff-state"),
    holdHandback: $("hold-handback"),
    dropHandback: $("drop-handback"),
    rules: $("delivery-rules"),
    clearRules: $("clear-delivery-rules"),
    held: $("held-list"),
    heldEmpty: $("held-empty"),
    heldCount: $("held-count"),
    faultForm: $("fault-form"),
    faultMethod: $("fault-method"),
    faultPath: $("fault-path"),
    faults: $("fault-list"),
    clearFaults: $("clear-faults"),
    unkindError: $("unkind-error"),
    agentsOnline: $("agents-online-toggle"),
    schedule: $("support-schedule"),
  };

  const state = {
    conversations: [],
    selectedId: null,
    renderedListKey: "",
    renderedConversationKey: "",
    typing: false,
    typingTimer: null,
    nameFromServer: false,
    unkind: { rules: [], held: [], faults: [] },
    renderedUnkindKey: "",
    releasing: new Set(),
    support: null,
    renderedSupportKey: "",
  };

  el.imageUrl.value = location.origin + "/_emulator/samples/receipt.png";
  el.fileUrl.value = location.origin + "/_emulator/samples/invoice.pdf";
  const savedName = localStorage.getItem(NAME_KEY);
  if (savedName) el.agentName.value = savedName;

  function agentName() {
    return el.agentName.value.trim() || "Agent";
  }

  function selected() {
    return state.conversations.find((c) => c.id === state.selectedId) || null;
  }

  function customerName(conversation) {
    const user = (conversation.participants || [])[0];
    if (!user) return "Customer";
    if (user.displayName) return user.displayName;
    // Like Agent Workspace's "Web User ...": a short, readable handle for an unnamed customer.
    const id = user.externalId || user.id || "";
    return id.length > 12 ? "Visitor " + id.slice(0, 8) : id || "Customer";
  }

  function roleOf(message) {
    if (message.author.type === "user") return "user";
    return message.source && message.source.type === "zd:agentWorkspace" ? "agent" : "bot";
  }

  function authorName(message, conversation) {
    if (message.author.displayName) return message.author.displayName;
    const role = roleOf(message);
    if (role === "user") return customerName(conversation);
    return role === "agent" ? "Agent" : "Bot";
  }

  function time(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function isHttpUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch (e) {
      return false;
    }
  }

  function node(tag, attrs, ...children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "className") element.className = value;
      else if (key === "text") element.textContent = value;
      else element.setAttribute(key, value);
    }
    for (const child of children) if (child) element.appendChild(child);
    return element;
  }

  function preview(message) {
    if (!message) return "";
    const c = message.content || {};
    if (c.type === "text") return c.text || "";
    if (c.type === "image") return "[image]";
    if (c.type === "file") return "[file]";
    return "[" + c.type + "]";
  }

  // The handoff as Zendesk sees it: who has the conversation, and how it came back.
  const HANDBACK_VERB = {
    "switchboard:releaseControl": "released",
    "switchboard:passControl": "passed",
    "switchboard:acceptControl": "passed",
  };

  function handoffState(conversation) {
    const handback = conversation.handback;
    if (conversation.agentStatus === "open") {
      return conversation.firstAgentMessageAt
        ? { state: "agent", text: "with the agent", detail: "first agent message " + time(conversation.firstAgentMessageAt) }
        : { state: "waiting", text: "waiting for an agent (no agent message yet)", detail: "since " + time(conversation.handedOffAt) };
    }
    if (!handback) return { state: "bot", text: "with the bot", detail: "" };
    const verb = HANDBACK_VERB[handback.type] || "released";
    const how = handback.type === "switchboard:acceptControl" ? " (acceptControl)" : "";
    const reason = handback.reason ? " — reason " + handback.reason : " — no reason given";
    const webhook = handback.webhookStatus || "unknown";
    return {
      state: verb,
      reason: handback.reason || "",
      webhook,
      text: verb + " to the bot" + how + reason,
      short: verb + (handback.reason ? " — " + handback.reason : ""),
      detail: "hand-back webhook " + webhook,
    };
  }

  function stateNode(conversation, attrs, short) {
    const s = handoffState(conversation);
    const notDelivered = s.webhook && s.webhook !== "delivered";
    const line = node("div", {
      ...attrs,
      className: "state",
      "data-state": s.state,
      "data-reason": s.reason || null,
      "data-webhook": s.webhook || null,
    }, node("span", { className: "state-text", text: short ? s.short || s.text : s.text }));
    if (s.detail && (!short || notDelivered)) {
      line.appendChild(node("span", { className: notDelivered ? "state-detail warn" : "state-detail", text: s.detail }));
    }
    return line;
  }

  // Network.
  async function call(method, path, body) {
    // Every call but a GET says JSON, even without a body: the emulator refuses anything else
    // there, so that no other web page can change it through this browser.
    const response = await fetch(path, {
      method,
      headers: method === "GET" ? {} : { "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = (data.errors && data.errors[0]) || {};
      throw new Error(error.title || response.status + " " + response.statusText);
    }
    return data;
  }

  function showError(error) {
    el.error.textContent = error ? String(error.message || error) : "";
  }

  async function act(path, body) {
    showError(null);
    try {
      await call("POST", path, body);
      await poll();
    } catch (error) {
      showError(error);
    }
  }

  function showUnkindError(error) {
    el.unkindError.textContent = error ? String(error.message || error) : "";
  }

  async function unkindAct(method, path, body) {
    showUnkindError(null);
    try {
      await call(method, path, body);
    } catch (error) {
      showUnkindError(error);
    }
    await poll();
  }

  // Rendering: the sidebar.
  function renderList() {
    const key = JSON.stringify(
      state.conversations
        .map((c) => [c.id, c.agentStatus, c.messages.length, c.agentTyping, c.firstAgentMessageAt, c.handback, c.ticket])
        .concat([state.selectedId])
    );
    if (key === state.renderedListKey) return;
    state.renderedListKey = key;
    const open = state.conversations.filter((c) => c.agentStatus === "open");
    const closed = state.conversations.filter((c) => c.agentStatus !== "open");
    el.openCount.textContent = String(open.length);
    el.queueEmpty.hidden = open.length > 0;
    el.queue.replaceChildren(...open.map(listItem));
    el.solved.replaceChildren(...closed.map(listItem));
  }

  function listItem(conversation) {
    const last = conversation.messages[conversation.messages.length - 1];
    const when = conversation.agentStatus === "open" ? conversation.handedOffAt : conversation.closedAt;
    const name = node("div", { className: "name" },
      node("span", { text: customerName(conversation) }),
      conversation.agentStatus === "open"
        ? node("span", { className: "time", text: time(when) })
        : node("span", { className: "badge", text: conversation.agentStatus }));
    const ticket = conversation.ticket;
    const tags = node("div", { className: "item-tags" },
      node("span", { className: "app-tag", "data-testid": "queue-item-app", text: conversation.appId }),
      ticket ? node("span", {
        className: "ticket-badge status-" + ticket.status,
        "data-testid": "queue-item-ticket",
        "data-ticket-id": String(ticket.id),
        "data-ticket-status": ticket.status,
        text: "#" + ticket.id + " " + ticket.status,
      }) : null);
    const item = node("li", {
      "data-testid": "queue-item",
      "data-conversation-id": conversation.id,
      "data-status": conversation.agentStatus,
      "data-app-id": conversation.appId,
      "aria-selected": String(conversation.id === state.selectedId),
      role: "option",
      tabindex: "0",
    }, name, tags, stateNode(conversation, { "data-testid": "queue-item-state" }, true),
    node("div", { className: "preview", text: preview(last) }));
    item.addEventListener("click", () => select(conversation.id));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter") select(conversation.id);
    });
    return item;
  }

  function select(id) {
    if (state.selectedId !== id) stopTyping();
    state.selectedId = id;
    state.renderedConversationKey = "";
    showError(null);
    render();
  }

  // Rendering: the selected conversation.
  function renderConversation() {
    const conversation = selected();
    el.conversation.hidden = !conversation;
    el.placeholder.hidden = !!conversation;
    if (!conversation) return;
    const key = JSON.stringify([
      conversation.id, conversation.agentStatus, conversation.messages.length,
      conversation.firstAgentMessageAt, conversation.handback, conversation.ticket,
    ]);
    if (key === state.renderedConversationKey) return;
    state.renderedConversationKey = key;

    const open = conversation.agentStatus === "open";
    el.conversation.dataset.conversationId = conversation.id;
    el.conversation.dataset.status = conversation.agentStatus;
    el.title.textContent = customerName(conversation);
    const user = (conversation.participants || [])[0] || {};
    el.sub.textContent = [
      "conversation " + conversation.id,
      user.externalId ? "externalId " + user.externalId : null,
      open ? "assigned to you" : conversation.agentStatus + " " + time(conversation.closedAt),
    ].filter(Boolean).join(" · ");
    const stateLine = stateNode(conversation, {}, false);
    for (const name of ["state", "reason", "webhook"]) {
      const value = stateLine.dataset[name];
      if (value) el.handoffState.dataset[name] = value;
      else delete el.handoffState.dataset[name];
    }
    el.handoffState.replaceChildren(...stateLine.childNodes);
    el.app.textContent = conversation.appId;
    el.app.title = "SunCo app (connector) " + conversation.appId;
    el.app.dataset.appId = conversation.appId;
    renderTicket(conversation.ticket);

    const metadata = Object.assign({}, conversation.handoffMetadata || {});
    el.metadata.replaceChildren(...Object.entries(metadata).map(([k, v]) =>
      node("div", {}, node("dt", { text: k }), node("dd", { text: String(v) }))));

    const nearBottom = el.transcript.scrollHeight - el.transcript.scrollTop - el.transcript.clientHeight < 80;
    el.transcript.replaceChildren(...conversation.messages.map((m, i) => messageItem(m, conversation, i)));
    if (nearBottom || state.forceScroll) el.transcript.scrollTop = el.transcript.scrollHeight;
    state.forceScroll = false;

    const richControls = [el.sendQuickReplies, el.sendLink, el.sendLocation, el.sendCarousel];
    for (const control of [el.reply, el.send, el.imageUrl, el.sendImage, el.fileUrl, el.sendFile, el.close, el.email, ...richControls]) {
      control.disabled = !open;
    }
    const ticket = conversation.ticket;
    el.solve.disabled = !open || !ticket || ticket.status === "solved" || ticket.status === "closed";
    el.reply.placeholder = open
      ? "Reply to the customer… (Enter sends, Shift+Enter for a new line)"
      : "This conversation is " + conversation.agentStatus + ": the bot is in charge again.";
  }

  function renderTicket(ticket) {
    el.ticket.hidden = !ticket;
    if (!ticket) {
      delete el.ticket.dataset.ticketId;
      delete el.ticket.dataset.ticketStatus;
      return;
    }
    el.ticket.dataset.ticketId = String(ticket.id);
    el.ticket.dataset.ticketStatus = ticket.status;
    el.ticketId.textContent = "Ticket #" + ticket.id;
    el.ticketStatus.textContent = ticket.status;
    el.ticketStatus.className = "ticket-status status-" + ticket.status;
    el.ticketSubject.textContent = ticket.subject;
    el.ticketTags.replaceChildren(...(ticket.tags || []).map((tag) =>
      node("span", { className: "tag", "data-testid": "ticket-tag", text: tag })));
    el.ticketFields.replaceChildren(...ticketFields(ticket).map(([field, label, value]) =>
      node("div", { "data-testid": "ticket-field", "data-field": field },
        node("dt", { text: label }), node("dd", { text: String(value) }))));
  }

  // What routed the ticket and what came back: group, brand, the requester's external id,
  // custom fields, the CSAT rating and the internal notes; only the values that are set.
  function ticketFields(ticket) {
    const rows = [
      ["group", "Group", ticket.groupId],
      ["brand", "Brand", ticket.brandId],
      ["external-id", "Requester external id", ticket.requester && ticket.requester.externalId],
      ...Object.entries(ticket.customFields || {}).map(([id, value]) =>
        ["field-" + id, "Field " + id, value]),
      ["csat", "CSAT", ticket.csat === null || ticket.csat === undefined ? null : ticket.csat + " / 5"],
      ...(ticket.notes || []).map((note) => ["note", "Internal note", note]),
    ];
    return rows.filter(([, , value]) => value !== null && value !== undefined && value !== "");
  }

  // Rich content: buttons, a carousel, a location; and what the user clicked.
  function actionsNode(actions) {
    if (!actions || !actions.length) return null;
    return node("div", { className: "actions", "data-testid": "message-actions" },
      ...actions.map((action) => node("span", {
        className: "action",
        "data-testid": "message-action",
        "data-action-type": action.type,
        "data-payload": action.payload,
        title: action.uri || action.payload || "",
        text: action.text,
      })));
  }

  function carouselNode(items) {
    return node("div", { className: "carousel", "data-testid": "message-carousel" },
      ...(items || []).map((item) => node("div", { className: "carousel-item", "data-testid": "carousel-item" },
        isHttpUrl(item.mediaUrl) ? node("img", { src: item.mediaUrl, alt: item.altText || item.title }) : null,
        node("strong", { text: item.title }),
        item.description ? node("div", { text: item.description }) : null,
        actionsNode(item.actions))));
  }

  function locationNode(content) {
    const place = content.location || {};
    const coordinates = content.coordinates || {};
    const words = [place.name, place.address, "(" + coordinates.lat + ", " + coordinates.long + ")"];
    return node("div", { "data-testid": "message-location", text: "\u{1F4CD} " + words.filter(Boolean).join(" · ") });
  }

  // The buttons a user can click in a message, each with the words that come back: its text
  // or payload, and for a card's button also "text (card title)".
  function clickable(message) {
    const content = message.content || {};
    const buttons = [];
    const add = (action, title) => {
      if (action.type !== "reply" && action.type !== "postback") return;
      const words = [action.text, action.payload];
      if (title) words.push(action.text + " (" + title + ")");
      buttons.push({ text: action.text, words });
    };
    for (const action of content.actions || []) add(action, null);
    for (const item of content.items || []) for (const action of item.actions || []) add(action, item.title);
    return buttons;
  }

  // The button a user message answers: its text (or payload) is one of the buttons of the
  // latest agent message with buttons before it, with no other user message between.
  function clickedButton(conversation, index) {
    const message = conversation.messages[index];
    const text = ((message.content || {}).text || "").trim();
    if (roleOf(message) !== "user" || !text) return null;
    for (let i = index - 1; i >= 0; i--) {
      const earlier = conversation.messages[i];
      if (roleOf(earlier) === "user") return null;
      const buttons = clickable(earlier);
      if (buttons.length) return buttons.find((button) => button.words.includes(text)) || null;
    }
    return null;
  }

  function messageItem(message, conversation, index) {
    const role = roleOf(message);
    const content = message.content || {};
    const bubble = node("div", { className: "bubble" });
    const clicked = clickedButton(conversation, index);
    if (content.type === "text") {
      bubble.appendChild(node("span", { "data-testid": "message-text", text: content.text || "" }));
      const actions = actionsNode(content.actions);
      if (actions) bubble.appendChild(actions);
      if (clicked) bubble.appendChild(node("span", { className: "clicked", "data-testid": "message-clicked", text: "clicked \u201C" + clicked.text + "\u201D" }));
    } else if (content.type === "carousel") {
      bubble.appendChild(carouselNode(content.items));
    } else if (content.type === "location") {
      bubble.appendChild(locationNode(content));
    } else if (content.type === "image" && isHttpUrl(content.mediaUrl)) {
      bubble.appendChild(node("a", { href: content.mediaUrl, target: "_blank", rel: "noopener" },
        node("img", { "data-testid": "message-image", src: content.mediaUrl, alt: content.altText || "image" })));
      if (content.text) bubble.appendChild(node("div", { className: "caption", "data-testid": "message-text", text: content.text }));
    } else if ((content.type === "file" || content.type === "image") && isHttpUrl(content.mediaUrl)) {
      const label = content.altText || decodeURIComponent(content.mediaUrl.split("/").pop() || "file");
      bubble.appendChild(node("a", {
        className: "file", "data-testid": "message-file", href: content.mediaUrl, target: "_blank", rel: "noopener",
      }, document.createTextNode(label)));
      if (content.text) bubble.appendChild(node("div", { className: "caption", "data-testid": "message-text", text: content.text }));
    } else {
      bubble.appendChild(node("div", { className: "structured", text: "[" + content.type + "] " + JSON.stringify(content) }));
    }
    const meta = node("div", { className: "meta" },
      node("span", { className: "author", "data-testid": "message-author", text: authorName(message, conversation) }),
      node("span", { className: "role-tag", text: role }),
      node("span", { text: time(message.received) }));
    return node("li", {
      className: "message",
      "data-testid": "message",
      "data-message-id": message.id,
      "data-role": role,
      "data-content-type": content.type,
      "data-clicked": clicked ? clicked.text : null,
    }, meta, bubble);
  }

  function render() {
    if (!selected()) {
      const firstOpen = state.conversations.find((c) => c.agentStatus === "open");
      if (firstOpen) {
        state.selectedId = firstOpen.id;
        state.forceScroll = true;
      }
    }
    renderList();
    renderConversation();
    renderUnkind();
    renderSupport();
  }

  // Rendering: what the Support API says (agents online, business hours).
  function renderSupport() {
    const support = state.support;
    const key = JSON.stringify(support);
    if (!support || key === state.renderedSupportKey) return;
    state.renderedSupportKey = key;
    const online = !!support.agentsOnline;
    el.agentsOnline.setAttribute("aria-checked", String(online));
    el.agentsOnline.dataset.state = online ? "online" : "offline";
    el.agentsOnline.textContent = online ? "Agents online" : "Agents offline";
    el.schedule.replaceChildren(...(support.inWords || []).map((line) =>
      node("li", { "data-testid": "support-schedule-line", text: line })));
  }

  // Rendering: Zendesk's unkind parts.
  function counts(item) {
    return " · " + item.remaining + " left, " + item.hits + (item.hits === 1 ? " hit" : " hits");
  }

  function describeRule(rule) {
    const types = rule.type ? rule.type.replace("switchboard:", "") : "";
    const what = rule.handback ? "hand-back" + (types ? " (" + types + ")" : "") : types || "event";
    const where = rule.conversationId ? " of " + conversationLabel(rule.conversationId) : "";
    return rule.mode + " the next " + what + where + counts(rule);
  }

  function describeFault(fault) {
    const method = fault.method || "any call";
    const answer = fault.hang ? "no answer" : fault.status;
    const how = fault.after ? "applied, then " + answer : answer + " (not applied)";
    return method + " to …" + fault.pathContains + ": " + how + counts(fault);
  }

  function conversationLabel(conversationId) {
    const conversation = state.conversations.find((c) => c.id === conversationId);
    return conversation ? customerName(conversation) : "conversation " + (conversationId || "?").slice(0, 8);
  }

  function heldItem(delivery) {
    const payload = ((delivery.payload || {}).events || [])[0] || {};
    const reason = (payload.payload || {}).reason;
    const releasing = state.releasing.has(delivery.eventId);
    const button = node("button", {
      type: "button", "data-testid": "release-button", className: "release",
      text: releasing ? "Releasing…" : "Release",
    });
    button.disabled = releasing;
    button.addEventListener("click", () => release(delivery.eventId));
    return node("li", {
      "data-testid": "held-event",
      "data-event-id": delivery.eventId,
      "data-event-type": delivery.eventType,
      "data-conversation-id": delivery.conversationId,
    },
    node("div", { className: "held-what" },
      node("code", { text: delivery.eventType.replace("switchboard:", "") }),
      reason ? node("span", { className: "muted", text: " reason " + reason }) : null),
    node("div", { className: "muted", text: conversationLabel(delivery.conversationId) + " · " + time(delivery.createdAt) }),
    button);
  }

  function renderUnkind() {
    const unkind = state.unkind;
    const key = JSON.stringify([unkind, [...state.releasing], state.conversations.map((c) => c.id)]);
    if (key === state.renderedUnkindKey) return;
    state.renderedUnkindKey = key;
    el.rules.replaceChildren(...unkind.rules.map((rule) => node("li", {
      "data-testid": "delivery-rule",
      "data-mode": rule.mode,
      "data-type": rule.type || "",
      "data-handback": String(!!rule.handback),
      "data-remaining": String(rule.remaining),
      "data-hits": String(rule.hits),
      className: rule.remaining > 0 ? "rule-" + rule.mode : "used",
      text: describeRule(rule),
    })));
    el.clearRules.hidden = unkind.rules.length === 0;
    el.held.replaceChildren(...unkind.held.map(heldItem));
    el.heldEmpty.hidden = unkind.held.length > 0;
    el.heldCount.textContent = String(unkind.held.length);
    el.faults.replaceChildren(...unkind.faults.map((fault) => node("li", {
      "data-testid": "fault-item",
      "data-path-contains": fault.pathContains,
      "data-method": fault.method || "",
      "data-status": fault.status === null ? "" : String(fault.status),
      "data-hang": String(!!fault.hang),
      "data-after": String(!!fault.after),
      "data-remaining": String(fault.remaining),
      "data-hits": String(fault.hits),
      className: fault.remaining > 0 ? "armed-fault" : "used",
      text: describeFault(fault),
    })));
    el.clearFaults.hidden = unkind.faults.length === 0;
  }

  async function fetchUnkind() {
    const [modes, held, faults] = await Promise.all([
      call("GET", "/_emulator/webhook-mode"),
      call("GET", "/_emulator/webhooks?status=held"),
      call("GET", "/_emulator/faults"),
    ]);
    return {
      rules: modes.rules || [],
      held: (held.deliveries || []).map((d) => ({
        eventId: d.eventId, eventType: d.eventType, conversationId: d.conversationId,
        createdAt: d.createdAt, payload: d.payload,
      })),
      faults: faults.faults || [],
    };
  }

  async function release(eventId) {
    state.releasing.add(eventId);
    renderUnkind();
    try {
      await unkindAct("POST", "/_emulator/webhooks/" + encodeURIComponent(eventId) + "/release");
    } finally {
      state.releasing.delete(eventId);
      renderUnkind();
    }
  }

  async function poll() {
    try {
      const [data, unkind, support] = await Promise.all([
        call("GET", "/_emulator/queue"), fetchUnkind(), call("GET", "/_emulator/support"),
      ]);
      state.unkind = unkind;
      state.support = support;
      state.conversations = data.conversations || [];
      if (!state.nameFromServer && !localStorage.getItem(NAME_KEY) && data.agentName) {
        el.agentName.value = data.agentName;
      }
      state.nameFromServer = true;
      el.connection.textContent = "connected";
      el.connection.dataset.state = "ok";
      render();
    } catch (error) {
      el.connection.textContent = "emulator unreachable";
      el.connection.dataset.state = "error";
    }
  }

  // Agent actions.
  function conversationPath(suffix) {
    return "/_emulator/conversations/" + encodeURIComponent(state.selectedId) + suffix;
  }

  function startTyping() {
    if (!state.selectedId) return;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
    if (state.typing) return;
    state.typing = true;
    call("POST", conversationPath("/typing"), { typing: true, agentName: agentName() }).catch(showError);
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (!state.typing || !state.selectedId) {
      state.typing = false;
      return;
    }
    state.typing = false;
    call("POST", conversationPath("/typing"), { typing: false, agentName: agentName() }).catch(showError);
  }

  async function sendReply() {
    const text = el.reply.value.trim();
    if (!text || !state.selectedId) return;
    clearTimeout(state.typingTimer);
    state.typing = false; // an agent message ends the typing indicator
    el.reply.value = "";
    state.forceScroll = true;
    await act(conversationPath("/agent-message"), { text, agentName: agentName() });
  }

  async function sendMedia(type, url) {
    if (!state.selectedId) return;
    if (!isHttpUrl(url)) {
      showError("Enter an http(s) URL");
      return;
    }
    state.forceScroll = true;
    await act(conversationPath("/agent-message"), { type, mediaUrl: url, agentName: agentName() });
  }

  async function sendRich(body) {
    if (!state.selectedId) return;
    state.forceScroll = true;
    await act(conversationPath("/agent-rich"), Object.assign({ agentName: agentName() }, body));
  }

  function sendQuickReplies() {
    const replies = el.quickReplies.value.split(",").map((r) => r.trim()).filter(Boolean);
    if (!el.quickText.value.trim() || !replies.length) {
      showError("Enter a question and at least one reply");
      return;
    }
    sendRich({ kind: "quickReplies", text: el.quickText.value.trim(), replies: replies.map((text) => ({ text })) });
  }

  function sendLocation() {
    const lat = Number(el.locationLat.value);
    const long = Number(el.locationLong.value);
    if (el.locationLat.value === "" || el.locationLong.value === "" || isNaN(lat) || isNaN(long)) {
      showError("Enter a latitude and a longitude");
      return;
    }
    const body = { kind: "location", lat, long };
    if (el.locationName.value.trim()) body.name = el.locationName.value.trim();
    sendRich(body);
  }

  const SAMPLE_CAROUSEL = [
    { title: "Acme parcel box", description: "Small, 2 kg", mediaUrl: "/_emulator/samples/receipt.png",
      actions: [{ type: "postback", text: "Choose the box", payload: "choose_box" },
        { type: "link", text: "Details", uri: "https://www.example.com/box" }] },
    { title: "Acme pallet", description: "Large, 40 kg", mediaUrl: "/_emulator/samples/receipt.png",
      actions: [{ type: "postback", text: "Choose the pallet", payload: "choose_pallet" },
        { type: "link", text: "Details", uri: "https://www.example.com/pallet" }] },
  ];

  el.sendQuickReplies.addEventListener("click", sendQuickReplies);
  el.sendLink.addEventListener("click", () => sendRich({
    kind: "link", text: el.linkText.value.trim(), buttonText: el.linkButtonText.value.trim(), uri: el.linkUri.value.trim(),
  }));
  el.sendLocation.addEventListener("click", sendLocation);
  el.sendCarousel.addEventListener("click", () => sendRich({ kind: "carousel", items: SAMPLE_CAROUSEL }));

  el.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  el.reply.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendReply();
    }
  });
  el.reply.addEventListener("input", () => {
    if (el.reply.value.trim()) startTyping();
    else stopTyping();
  });
  el.sendImage.addEventListener("click", () => sendMedia("image", el.imageUrl.value.trim()));
  el.sendFile.addEventListener("click", () => sendMedia("file", el.fileUrl.value.trim()));
  el.solve.addEventListener("click", () => {
    stopTyping();
    act(conversationPath("/ticket"), { status: "solved" });
  });
  el.close.addEventListener("click", () => {
    stopTyping();
    act(conversationPath("/solve"));
  });
  el.email.addEventListener("click", () => {
    stopTyping();
    act(conversationPath("/solve"), { reason: "transferToEmail" });
  });
  el.holdHandback.addEventListener("click", () =>
    unkindAct("POST", "/_emulator/webhook-mode", { mode: "hold", handback: true }));
  el.dropHandback.addEventListener("click", () =>
    unkindAct("POST", "/_emulator/webhook-mode", { mode: "drop", handback: true }));
  el.clearRules.addEventListener("click", () => unkindAct("DELETE", "/_emulator/webhook-mode"));
  el.faultForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const path = el.faultPath.value.trim();
    if (!path) {
      showUnkindError("Enter a path fragment, e.g. /messages");
      return;
    }
    const body = { pathContains: path, status: 500, after: true };
    if (el.faultMethod.value) body.method = el.faultMethod.value;
    unkindAct("POST", "/_emulator/faults", body);
  });
  el.clearFaults.addEventListener("click", () => unkindAct("DELETE", "/_emulator/faults"));
  el.agentsOnline.addEventListener("click", () => {
    const online = !(state.support && state.support.agentsOnline);
    unkindAct("POST", "/_emulator/support", { agentsOnline: online });
  });
  el.agentName.addEventListener("change", () => {
    localStorage.setItem(NAME_KEY, el.agentName.value.trim());
  });

  poll();
  setInterval(poll, POLL_MS);
})();
