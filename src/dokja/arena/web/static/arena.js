// The arena page: send a prompt, follow both answers as they stream, vote, then see who they were.
// Model text is only ever written with textContent, never as HTML. A new visitor's browser does the site's
// proof of work (solveChallenge, from /challenge.js) in the background; a vote waits for it.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var battle = null, source = null, finished = {}, proof = null;

  function lang() { return document.documentElement.getAttribute("data-lang") === "ko" ? "ko" : "en"; }

  function notice(body) {
    var el = $("notice");
    el.textContent = body ? (lang() === "ko" ? body.ko : body.en) || "" : "";
    el.hidden = !body;
  }

  function setState(side, en, ko) {
    var el = $("state-" + side);
    el.textContent = "";
    [["en", en], ["ko", ko]].forEach(function (pair) {
      var span = document.createElement("span");
      span.className = pair[0];
      span.textContent = pair[1];
      el.appendChild(span);
    });
  }

  function voteButtons(enabled) {
    document.querySelectorAll("#vote button").forEach(function (b) { b.disabled = !enabled; });
  }

  function reset() {
    if (source) { source.close(); source = null; }
    battle = null; finished = {};
    ["a", "b"].forEach(function (s) {
      $("answer-" + s).textContent = "";
      $("reveal-" + s).textContent = "";
      setState(s, "writing…", "작성 중…");
    });
    $("battle").hidden = true; $("vote").hidden = true; $("thanks").hidden = true;
    voteButtons(false);
    $("send").disabled = false;
  }

  async function ask(event) {
    event.preventDefault();
    var prompt = $("prompt").value.trim();
    if (!prompt) { return; }
    reset();
    notice(null);
    $("send").disabled = true;
    var response = await fetch("/api/battles", {
      method: "POST", headers: { "content-type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ prompt: prompt })
    });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) { notice(body); $("send").disabled = false; return; }
    battle = body.battle;
    $("battle").hidden = false; $("vote").hidden = false;
    follow(body.stream);
  }

  function follow(url) {
    source = new EventSource(url);
    source.addEventListener("piece", function (e) {
      var d = JSON.parse(e.data);
      $("answer-" + d.side).textContent += d.text;
    });
    source.addEventListener("done", function (e) {
      var d = JSON.parse(e.data);
      finished[d.side] = true;
      setState(d.side, "finished", "완료");
      $("side-" + d.side).setAttribute("data-finished", "true");
    });
    source.addEventListener("failed", function (e) {
      var d = JSON.parse(e.data);
      setState(d.side, "this answer failed", "답변 생성 실패");
    });
    source.addEventListener("end", function () {
      source.close(); source = null;
      if (finished.a && finished.b) { voteButtons(true); }
      else { notice({ en: "An answer failed; start a new battle.", ko: "답변 하나가 실패했습니다. 새 대결을 시작하세요." }); $("send").disabled = false; }
    });
  }

  function owner(who) {
    var name = lang() === "ko" && who.owner_ko ? who.owner_ko : who.owner;
    return who.model + (name ? " · " + name : "");
  }

  async function prove() {
    var response = await fetch("/api/challenge", { credentials: "same-origin", cache: "no-store" });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok || body.verified) { return response.ok ? null : body; }
    var nonce = await solveChallenge(body.challenge, body.difficulty);
    response = await fetch("/api/challenge", {
      method: "POST", headers: { "content-type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ challenge: body.challenge, nonce: nonce })
    });
    return response.ok ? null : await response.json().catch(function () { return {}; });
  }

  // The refusal that stopped the proof of work, or null once it is done (or none is asked).
  function proven() {
    if (!proof) {
      proof = prove().catch(function () {
        return { en: "This browser could not do the proof of work; try another browser.",
                 ko: "이 브라우저에서는 작업 증명을 할 수 없습니다. 다른 브라우저를 사용하세요." };
      });
    }
    return proof;
  }

  async function vote(outcome, again) {
    voteButtons(false);
    var failed = await proven();
    if (failed) { proof = null; notice(failed); voteButtons(true); return; }
    var response = await fetch("/api/battles/" + encodeURIComponent(battle) + "/vote", {
      method: "POST", headers: { "content-type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ outcome: outcome })
    });
    var body = await response.json().catch(function () { return {}; });
    if (response.status === 403 && body.error === "no_proof" && !again) { proof = null; return vote(outcome, true); }
    if (!response.ok) { notice(body); return; }
    $("reveal-a").textContent = "— " + owner(body.a);
    $("reveal-b").textContent = "— " + owner(body.b);
    $("thanks").hidden = false;
    $("send").disabled = false;
  }

  $("ask").addEventListener("submit", ask);
  document.querySelectorAll("#vote button").forEach(function (b) {
    b.addEventListener("click", function () { vote(b.getAttribute("data-outcome")); });
  });
  $("again").addEventListener("click", function () { reset(); $("prompt").value = ""; $("prompt").focus(); });
  proven();
})();
