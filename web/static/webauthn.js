// Security keys (WebAuthn) on the Custos pages. This is the only script the
// pages load; everything else works without it.
//
// A form with data-webauthn="register" (Security Settings) or "login" (the
// second step of login) names two same-origin JSON endpoints in data-begin
// and data-finish, and the words to show in data-msg-* attributes, so every
// text still comes from the server's catalogue. On submit the script
//
//  1. posts {name} or {login_token} to begin, which answers
//     {registration_id | assertion_id, options}; options is go-webauthn's
//     {"publicKey": {...}} with binary fields in base64url;
//  2. turns those fields into ArrayBuffers and calls
//     navigator.credentials.create or .get;
//  3. turns the key's answer back into JSON (binary fields base64url) and
//     posts it to finish, which answers {location};
//  4. goes to location.
//
// An error answer is {"error": {code, message, location?}}: with a location
// (confirm it's you first, log in again) the script goes there, otherwise
// it shows the message in the form's problem box and moves the focus to it.
"use strict";

(() => {
  // --- base64url <-> ArrayBuffer -------------------------------------------

  const toBuffer = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  };

  const toBase64url = (buf) => {
    const bytes = ArrayBuffer.isView(buf)
      ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      : new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  // plain copies a value for JSON, with every binary value in base64url
  // (extension outputs such as prf results hold ArrayBuffers).
  const plain = (v) => {
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return toBase64url(v);
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === "object") {
      const out = {};
      for (const k of Object.keys(v)) out[k] = plain(v[k]);
      return out;
    }
    return v;
  };

  // --- options in, answers out ---------------------------------------------

  const descriptor = (d) => Object.assign({}, d, { id: toBuffer(d.id) });

  const creationOptions = (pk) => {
    const o = Object.assign({}, pk, {
      challenge: toBuffer(pk.challenge),
      user: Object.assign({}, pk.user, { id: toBuffer(pk.user.id) }),
    });
    if (pk.excludeCredentials) o.excludeCredentials = pk.excludeCredentials.map(descriptor);
    return o;
  };

  const requestOptions = (pk) => {
    const o = Object.assign({}, pk, { challenge: toBuffer(pk.challenge) });
    if (pk.allowCredentials) o.allowCredentials = pk.allowCredentials.map(descriptor);
    return o;
  };

  const answer = (cred) => {
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: { clientDataJSON: toBase64url(r.clientDataJSON) },
      clientExtensionResults: plain(cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}),
    };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === "function") out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) out.response.userHandle = toBase64url(r.userHandle);
    }
    return out;
  };

  // --- talking to the server -----------------------------------------------

  // Problem is a failed step: the server's error object, or one of ours.
  class Problem extends Error {
    constructor(info) {
      super(info.message || "");
      this.info = info;
    }
  }

  const post = async (url, body) => {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch (_) {
      // not JSON: a proxy's page, say; reported as a failure below
    }
    if (!res.ok || !data) throw new Problem((data && data.error) || {});
    return data;
  };

  // localPath keeps only same-site paths, so an answer can never send the
  // browser elsewhere.
  const localPath = (p) => typeof p === "string" && p.startsWith("/") && !p.startsWith("//") && !p.includes("\\");

  // --- the page --------------------------------------------------------------

  const field = (form, name) => {
    const el = form.elements.namedItem(name);
    return el ? el.value : "";
  };

  const msg = (form, key) => form.dataset["msg" + key[0].toUpperCase() + key.slice(1)] || "";

  const setStatus = (form, text) => {
    const el = form.querySelector("[data-webauthn-status]");
    if (el) el.textContent = text;
  };

  const clearProblem = (form) => {
    const box = form.querySelector("[data-webauthn-problem]");
    if (box) {
      box.hidden = true;
      box.removeAttribute("role");
    }
    const input = form.elements.namedItem("name");
    const fieldError = input && document.getElementById(input.id + "-error");
    if (fieldError) {
      fieldError.hidden = true;
      fieldError.textContent = "";
      input.removeAttribute("aria-invalid");
      input.closest(".field").classList.remove("has-error");
    }
  };

  const showProblem = (form, text, fieldName) => {
    const box = form.querySelector("[data-webauthn-problem]");
    box.querySelector("[data-webauthn-message]").textContent = text;
    box.setAttribute("role", "alert");
    box.hidden = false;
    const input = fieldName && form.elements.namedItem(fieldName);
    const fieldError = input && input.id && document.getElementById(input.id + "-error");
    if (fieldError) {
      fieldError.textContent = text;
      fieldError.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.closest(".field").classList.add("has-error");
    }
    box.focus();
  };

  const run = async (form, button) => {
    const login = form.dataset.webauthn === "login";
    button.disabled = true;
    clearProblem(form);
    try {
      if (!window.PublicKeyCredential || !navigator.credentials) {
        throw new Problem({ message: msg(form, "unsupported") });
      }
      const begun = await post(
        form.dataset.begin,
        login ? { login_token: field(form, "login_token") } : { name: field(form, "name") },
      );
      setStatus(form, msg(form, "waiting"));
      let cred;
      try {
        cred = login
          ? await navigator.credentials.get({ publicKey: requestOptions(begun.options.publicKey) })
          : await navigator.credentials.create({ publicKey: creationOptions(begun.options.publicKey) });
      } catch (e) {
        // InvalidStateError: the key is one excludeCredentials names.
        const key = e && e.name === "InvalidStateError" && !login ? "duplicate" : "cancelled";
        throw new Problem({ message: msg(form, key) });
      }
      if (!cred) throw new Problem({ message: msg(form, "cancelled") });
      const done = await post(
        form.dataset.finish,
        login
          ? {
              login_token: field(form, "login_token"),
              assertion_id: begun.assertion_id,
              credential: answer(cred),
              trust: Boolean(form.elements.namedItem("trust") && form.elements.namedItem("trust").checked),
            }
          : { registration_id: begun.registration_id, credential: answer(cred) },
      );
      setStatus(form, "");
      if (localPath(done.location)) {
        window.location.assign(done.location);
        return; // the button stays off while the next page loads
      }
      if (done.next === "change_password" && done.login_token) {
        // A sub-user's login still owes a new password: its page takes
        // the login token as the other steps do, in a posted form.
        const step = document.createElement("form");
        step.method = "post";
        step.action = "/login/change-password";
        for (const [name, value] of [["login_token", done.login_token], ["show", "1"]]) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          input.value = value;
          step.appendChild(input);
        }
        document.body.appendChild(step);
        step.submit();
        return;
      }
      throw new Problem({});
    } catch (e) {
      const info = e instanceof Problem ? e.info : {};
      setStatus(form, "");
      if (localPath(info.location)) {
        window.location.assign(info.location);
        return;
      }
      showProblem(form, info.message || msg(form, "failed"), info.field);
      button.disabled = false;
    }
  };

  for (const form of document.querySelectorAll("form[data-webauthn]")) {
    const button = form.querySelector("button[type=submit]");
    if (!button) continue;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!button.disabled) run(form, button);
    });
    button.disabled = false;
    if (button.hasAttribute("data-autofocus") && !document.querySelector("[autofocus]")) button.focus();
  }
})();
