// The call page: renders what the advisor said (no dialogue logic here), sends what the caller said.
(function () {
  const page = document.getElementById("call");
  const callId = page.dataset.call, csrf = page.dataset.csrf;
  const facts = JSON.parse(document.getElementById("facts").textContent);
  let view = JSON.parse(document.getElementById("initial").textContent);
  let answers = [];
  const $ = id => document.getElementById(id);
  const el = (tag, attrs = {}, text) => { const e = document.createElement(tag); Object.assign(e, attrs); if (text !== undefined) e.textContent = text; return e; };
  const statusWord = { eligible: "可以享受", possible: "可能可以" };

  async function say(text, label) {
    $("error").textContent = "";
    const reply = await fetch(`/api/calls/${callId}/say`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text, label })
    });
    const data = await reply.json();
    if (!reply.ok) { $("error").textContent = data.error || "出错了，请再试一次。"; return; }
    const before = view;
    view = data;
    render(before);
  }

  function renderScript() {
    const s = view.script;
    if (!s) return;
    $("read-out").textContent = s.read_out;
    $("instruction").textContent = s.instruction;
    const also = $("also"); also.replaceChildren(...s.also_said.map(t => el("p", {}, t)));
    answers = s.answers;
    $("answers").replaceChildren(...answers.map((a, i) => {
      const b = el("button", { type: "button", className: "answer" });
      b.append(el("kbd", {}, String(i + 1)), " " + a.title);
      b.addEventListener("click", () => say(a.payload, a.title));
      return b;
    }));
  }

  function renderSteps() {
    $("steps").replaceChildren(...view.steps.map(step => {
      const li = el("li", {}, step.said);
      const edit = el("button", { type: "button", title: "把这句放回输入框，改了再记录" }, "修改");
      edit.addEventListener("click", () => { $("said").value = step.said; $("said").focus(); });
      li.append(edit);
      return li;
    }));
  }

  function renderProfile(before) {
    const old = (before && before.profile) || {};
    $("profile").replaceChildren(...facts.flatMap(f => {
      const known = f.name in view.profile;
      const dd = el("dd", { className: known ? "" : "unknown", tabIndex: 0, title: "点一下修改" },
                    known ? view.profile_words[f.name] : "—");   // worded by the server (policy_kb facts)
      if (before && known && old[f.name] !== view.profile[f.name]) dd.classList.add("changed");
      dd.dataset.fact = f.name;
      dd.addEventListener("click", () => edit(f));
      dd.addEventListener("keydown", e => { if (e.key === "Enter") edit(f); });
      return [el("dt", {}, f.label), dd];
    }));
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

  function renderResults(before) {
    const old = Object.fromEntries(((before && before.results) || []).map(r => [r.id, r.status]));
    $("results").replaceChildren(...view.results.map(r => {
      const li = el("li", { className: "result" });
      // highlight what an answer changed, not the first appearance of the results
      if (before && before.results && before.results.length && old[r.id] !== r.status) li.classList.add("changed");
      li.append(el("strong", {}, r.name + " "), el("span", { className: "status" }, "【" + statusWord[r.status] + "】"),
                el("p", { className: "why" }, "为什么：" + (r.reasons.slice(-3).join("；") || r.summary)),
                el("p", { className: "how" }, "怎么办：" + r.apply.where + (r.next_step ? "；下一步：" + r.next_step : "")));
      if (r.apply.documents && r.apply.documents.length) li.append(el("p", {}, "要带：" + r.apply.documents.join("、")));
      return li;
    }), ...((before && before.results) || []).filter(r => !view.results.some(n => n.id === r.id)).map(r =>
      el("li", { className: "result removed changed" }, `${r.name}（按新的情况，不再符合）`)));
    $("bookings").replaceChildren(...view.bookings.map(b => el("li", {}, `${b.kind} ${b.reference}（${b.status}，电话 ${b.phone}）`)));
  }

  function renderWhose() {   // a household: whose facts and results are on the page
    const others = (view.household || []).filter(p => p !== view.person);
    const text = view.person ? `：${view.person}` + (others.length ? `（还有${others.join("、")}）` : "") : "";
    $("whose-profile").textContent = text;
    $("whose-results").textContent = view.person ? `：${view.person}` : "";
  }

  function render(before) { renderScript(); renderSteps(); renderProfile(before); renderResults(before); renderWhose(); }

  $("say").addEventListener("submit", e => {
    e.preventDefault();
    const text = $("said").value.trim();
    if (!text) { $("error").textContent = "请先输入来电人说的话。"; return; }
    $("said").value = "";
    say(text);
  });
  document.querySelectorAll(".start").forEach(b => b.addEventListener("click", () => say(b.dataset.payload, "办理：" + b.dataset.label)));
  document.addEventListener("keydown", e => {   // keys 1–9 choose an answer (not while typing something)
    if (!/^[1-9]$/.test(e.key) || e.ctrlKey || e.altKey || e.metaKey) return;
    const typing = document.activeElement && ["INPUT", "TEXTAREA"].includes(document.activeElement.tagName) && document.activeElement.value;
    const answer = answers[parseInt(e.key, 10) - 1];
    if (typing || !answer) return;
    e.preventDefault();
    say(answer.payload, answer.title);
  });
  $("end").addEventListener("submit", async e => {
    e.preventDefault();
    const form = new FormData(e.target);
    const reply = await fetch(`/api/calls/${callId}/end`, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ outcome: form.get("outcome"), note: form.get("note") })
    });
    const data = await reply.json();
    if (!reply.ok) { $("error").textContent = data.error; return; }
    window.open(data.summary, "_blank");
  });
  render(null);
  if (!view.steps.length) say("/ask_recommendation", "（来电开始）");
})();
