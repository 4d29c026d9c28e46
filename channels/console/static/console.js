// The call page: renders what the advisor said (no dialogue logic here), sends what the caller said.
(function () {
  const page = document.getElementById("call");
  const callId = page.dataset.call, csrf = page.dataset.csrf;
  const facts = JSON.parse(document.getElementById("facts").textContent);
  let view = JSON.parse(document.getElementById("initial").textContent);
  let answers = [];
  let watching = null;   // a read-only view of a call in progress follows it
  const $ = id => document.getElementById(id);
  const el = (tag, attrs = {}, text) => { const e = document.createElement(tag); Object.assign(e, attrs); if (text !== undefined) e.textContent = text; return e; };
  const statusWord = { eligible: "可以享受", possible: "可能可以" };
  const readonly = () => view.call.readonly;

  async function post(path, body) {
    const reply = await fetch(`/api/calls/${callId}/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body || {})
    });
    let data = {};
    try { data = await reply.json(); } catch (e) { data = { error: "出错了，请刷新页面再试。" }; }
    return { ok: reply.ok, status: reply.status, data };
  }

  async function refresh() {   // the call as stored now (ended, taken over, or moved on by whoever holds it)
    const reply = await fetch(`/api/calls/${callId}`);
    if (!reply.ok) return;
    const fresh = await reply.json();
    if (JSON.stringify(fresh) === JSON.stringify(view)) return;   // nothing new: leave the page as it is
    const before = view;
    view = fresh;
    render(before);
  }

  async function say(text, label) {
    if (readonly()) return;
    $("error").textContent = "";
    const { ok, status, data } = await post("say", { text, label });
    if (!ok) {
      $("error").textContent = data.error || "出错了，请再试一次。";
      if (status === 403 || status === 409) await refresh();   // the call is no longer ours to act on
      return;
    }
    const before = view;
    view = data;
    render(before);
  }

  function renderCall() {
    const c = view.call;
    page.classList.toggle("readonly", c.readonly);
    let text = c.banner || "";
    if (c.ended) text += ` 结果：${c.outcome_label}。` + (c.note ? `备注：${c.note}` : "");
    $("call-status").hidden = !text;
    $("call-status").classList.toggle("ended", c.ended);
    $("call-status-text").textContent = text.trim();
    $("take-over").hidden = !c.can_take_over;
    $("read-label").textContent = c.readonly ? (c.ended ? "最后读给来电人的：" : "接线员正在读：") : "请读给来电人听：";
    $("said").disabled = c.readonly;
    $("outcome").hidden = !c.ended;
    $("outcome").textContent = c.ended ? `结果：${c.outcome_label}` + (c.note ? `；备注：${c.note}` : "") + `（${c.ended_at} 结束）` : "";
    $("events-box").hidden = !c.events.length;
    $("events").replaceChildren(...c.events.map(e => el("li", {}, `${e.at} ${e.who} ${e.what}`)));
    // a call in progress that is not ours: follow it as it goes on
    if (c.readonly && !c.ended && !watching) watching = setInterval(refresh, 4000);
    if ((!c.readonly || c.ended) && watching) { clearInterval(watching); watching = null; }
  }

  function renderScript() {
    const s = view.script;
    if (!s) return;
    $("read-out").textContent = s.read_out;
    $("read-out").classList.toggle("long", s.read_out.length > 50);
    $("instruction").textContent = s.instruction;
    $("instruction").hidden = readonly();   // nothing to record on a call that is over or not ours
    $("note").textContent = s.note || "";   // guidance for a sensitive question (why it is asked; the caller may decline)
    $("note").hidden = !s.note;
    const also = $("also"); also.replaceChildren(...s.also_said.map(t => el("p", {}, t)));
    answers = readonly() ? [] : s.answers;
    $("answers").replaceChildren(...answers.map((a, i) => {
      const b = el("button", { type: "button", className: "answer" });
      b.append(el("kbd", {}, String(i + 1)), " " + a.title);
      b.addEventListener("click", () => say(a.payload, a.title));
      return b;
    }));
    const confirm = $("reveal-confirm");
    confirm.hidden = readonly() || !view.phone_to_confirm;
    confirm.querySelector(".masked").textContent = view.phone_to_confirm || "";
    confirm.querySelector(".full-phone").textContent = "";
  }

  const SHOWN_STEPS = 3;   // the newest few, under the box; all of them on demand
  function renderSteps() {
    const list = $("steps");
    list.replaceChildren(...view.steps.map((step, i) => {
      const li = el("li", { value: i + 1 }, step.said);
      if (!readonly()) {
        const edit = el("button", { type: "button", title: "把这句放回输入框，改了再记录" }, "修改");
        edit.addEventListener("click", () => { $("said").value = step.said; $("said").focus(); });
        li.append(edit);
      }
      return li;
    }));
    const more = view.steps.length - SHOWN_STEPS;
    $("all-steps").hidden = more <= 0;
    $("all-steps").textContent = list.classList.contains("all") ? "只看最近的" : `前面还有 ${more} 条`;
  }

  function renderProfile(before) {
    const old = (before && before.profile) || {};
    $("profile").replaceChildren(...facts.map(f => {
      const known = f.name in view.profile;
      const dd = el("dd", { className: known ? "" : "unknown" }, known ? view.profile_words[f.name] : "—");   // worded by the server
      if (before && known && old[f.name] !== view.profile[f.name]) dd.classList.add("changed");
      dd.dataset.fact = f.name;
      if (!readonly()) {
        dd.tabIndex = 0; dd.title = "点一下修改"; dd.classList.add("editable");
        dd.addEventListener("click", () => edit(f));
        dd.addEventListener("keydown", e => { if (e.key === "Enter") edit(f); });
      }
      const pair = el("div", { className: "fact" });
      pair.append(el("dt", {}, f.label), dd);
      return pair;
    }));
    if (readonly()) $("editor").hidden = true;
  }

  function edit(fact) {
    const box = $("editor"); box.hidden = false;
    const send = (value, words) => { box.hidden = true; say("/inform" + JSON.stringify({ [fact.name]: value }), `${fact.label}：${words}`); };
    const title = el("p", {}, `改「${fact.label}」：`);
    let controls;
    if (fact.choices.length) {
      controls = fact.choices.map(c => { const b = el("button", { type: "button" }, c.label); b.addEventListener("click", () => send(c.value, c.label)); return b; });
    } else if (fact.type === "bool") {
      controls = [["是", true], ["否", false]].map(([t, v]) => { const b = el("button", { type: "button" }, t); b.addEventListener("click", () => send(v, t)); return b; });
    } else {
      const input = el("input", { type: "number", min: 0, max: 130, value: view.profile[fact.name] || "" });
      const ok = el("button", { type: "button", className: "primary" }, "确定");
      ok.addEventListener("click", () => input.value && send(parseInt(input.value, 10), input.value + fact.unit));
      controls = [input, ok];
    }
    const cancel = el("button", { type: "button" }, "取消"); cancel.addEventListener("click", () => { box.hidden = true; });
    box.replaceChildren(title, ...controls, cancel);
    (controls[0] || cancel).focus();
  }

  // A result is one line (name, status, the reason that decided it); the rest opens on demand.
  function result(r, i, changed) {
    const li = el("li", { className: "result" + (changed ? " changed" : "") });
    const details = el("details"), summary = el("summary");
    summary.append(el("span", { className: "n" }, `${i + 1}.`), el("strong", {}, r.name),
                   el("span", { className: "status " + r.status }, "【" + statusWord[r.status] + "】"));
    if (!r.verified) summary.append(el("span", { className: "unverified" }, "待核实"));
    summary.append(el("span", { className: "reason" }, r.reason || ""));
    details.append(summary);
    const line = (label, text) => text && details.append(el("p", {}, label + text));
    line("为什么：", r.reasons.join("；") || r.summary);
    line("能享受：", r.benefit);
    line("去哪里办：", r.apply.where);
    line("要带：", (r.apply.documents || []).join("、"));
    line("下一步：", r.next_step);
    li.append(details);
    return li;
  }

  function revealButton(onShown, body) {   // the whole number for a moment, to read it back; recorded
    const b = el("button", { type: "button", className: "reveal-phone" }, "显示完整号码");
    b.addEventListener("click", async () => {
      const { ok, data } = await post("reveal_phone", body);
      if (!ok) { $("error").textContent = data.error || "出错了，请再试一次。"; return; }
      onShown(data.phone, data.seconds);
    });
    return b;
  }

  function showFor(span, phone, seconds) {
    // said in groups: 139 1234 5678
    span.textContent = /^1\d{10}$/.test(phone) ? `${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}` : phone;
    clearTimeout(span.hideTimer);
    span.hideTimer = setTimeout(() => { span.textContent = ""; }, seconds * 1000);
  }

  function renderResults(before) {
    const old = Object.fromEntries(((before && before.results) || []).map(r => [r.id, r.status]));
    // highlight what an answer changed, not the first appearance of the results
    const changes = before && before.results && before.results.length;
    $("results").replaceChildren(...view.results.map((r, i) => result(r, i, changes && old[r.id] !== r.status)),
      ...((before && before.results) || []).filter(r => !view.results.some(n => n.id === r.id)).map(r =>
        el("li", { className: "result removed changed" }, `${r.name}（按新的情况，不再符合）`)));
    $("bookings-title").hidden = !view.bookings.length;
    $("bookings").replaceChildren(...view.bookings.map(b => {
      const what = [b.service, b.date, b.slot].filter(Boolean).join(" ");
      const li = el("li", {}, `${b.kind} ${b.reference}` + (what ? ` · ${what}` : "") + `（${b.status}，电话 ${b.phone}）`);
      if (!readonly() && b.phone) {
        const full = el("span", { className: "full-phone" });
        li.append(" ", revealButton((phone, s) => showFor(full, phone, s), { reference: b.reference }), " ", full);
      }
      return li;
    }));
  }

  function renderWhose() {   // a household: whose facts and results are on the page
    const others = (view.household || []).filter(p => p !== view.person);
    const text = view.person ? `：${view.person}` + (others.length ? `（还有${others.join("、")}）` : "") : "";
    $("whose-profile").textContent = text;
    $("whose-results").textContent = view.person ? `：${view.person}` : "";
  }

  function render(before) {
    renderCall(); renderScript(); renderSteps(); renderProfile(before); renderResults(before); renderWhose();
    if (!before || before.steps.length !== view.steps.length) bringIntoView();
  }

  // The question and its answers back in view after every step: on a narrow screen the page
  // scrolls, on a wide one the script column (only when very large type makes it overflow).
  // When not all of it fits, the answers and the box win over the first lines of a long read-out.
  function bringIntoView() {
    if (readonly()) { $("script").scrollIntoView({ block: "start" }); return; }   // whose call, and why read-only, first
    $("now").scrollIntoView({ block: "start" });
    $("recorded").scrollIntoView({ block: "nearest" });
  }

  $("say").addEventListener("submit", e => {
    e.preventDefault();
    const text = $("said").value.trim();
    if (!text) { $("error").textContent = "请先输入来电人说的话。"; return; }
    $("said").value = "";
    // a bare number typed in the box and sent is the answer with that number ("10" for 太仓)
    const n = /^\d{1,2}$/.test(text) ? parseInt(text, 10) : 0;
    if (n >= 1 && n <= answers.length) { say(answers[n - 1].payload, answers[n - 1].title); return; }
    say(text);
  });
  $("all-steps").addEventListener("click", () => { $("steps").classList.toggle("all"); renderSteps(); });
  document.querySelectorAll(".start").forEach(b => b.addEventListener("click", () => say(b.dataset.payload, "办理：" + b.dataset.label)));
  $("reveal-confirm").querySelector("button").replaceWith(
    revealButton((phone, s) => showFor($("reveal-confirm").querySelector(".full-phone"), phone, s)));
  $("take-over").addEventListener("click", async () => {
    const { ok, data } = await post("take_over");
    if (!ok) { $("error").textContent = data.error || "出错了，请再试一次。"; return; }
    const before = view;
    view = data;
    render(before);
  });
  // keys 1–9 choose an answer when the cursor is not in a box: in the box a digit is typed ("2个女儿…"),
  // and a bare number sent with Enter chooses (above)
  document.addEventListener("keydown", e => {
    if (!/^[1-9]$/.test(e.key) || e.ctrlKey || e.altKey || e.metaKey) return;
    const typing = document.activeElement && ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName);
    const answer = answers[parseInt(e.key, 10) - 1];
    if (typing || !answer) return;
    e.preventDefault();
    say(answer.payload, answer.title);
  });
  $("end").addEventListener("submit", async e => {
    e.preventDefault();
    const form = new FormData(e.target);
    const { ok, data } = await post("end", { outcome: form.get("outcome"), note: form.get("note") });
    if (!ok) { $("error").textContent = data.error; return; }
    const before = view;
    view = data.view;
    render(before);   // read-only at once, with the outcome
    window.open(data.summary, "_blank");
  });
  // our own call taken over by a supervisor (or ended elsewhere) turns read-only within seconds,
  // not on the operator's next action; what they were typing stays in the box
  setInterval(async () => {
    if (readonly()) return;
    const reply = await fetch(`/api/calls/${callId}`);
    if (!reply.ok) return;
    const fresh = await reply.json();
    if (!fresh.call.readonly) return;
    const before = view;
    view = fresh;
    render(before);
  }, 3000);
  render(null);
  // the call opens with a greeting and the first question (short on the phone), not the chat's "what everyone can use"
  if (!view.steps.length && !readonly()) say("/greet", "（来电开始）");
})();
