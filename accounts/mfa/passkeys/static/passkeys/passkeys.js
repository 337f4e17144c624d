// Passkeys in the browser pages (accounts/browser/passkeys.py): "Sign in with a passkey" on
// the login page, and "Add a passkey" on the passkeys page. The options come from the API as
// WebAuthn Level 3 JSON; the browser's own parse*FromJSON / toJSON are used where it has them,
// with the same conversions written out for browsers that lack them.
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = fromB64url(json.challenge);
    o.user = Object.assign({}, json.user, { id: fromB64url(json.user.id) });
    o.excludeCredentials = (json.excludeCredentials || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
    return o;
  }

  function requestOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = fromB64url(json.challenge);
    o.allowCredentials = (json.allowCredentials || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
    return o;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var r = credential.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type, response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var first = data.detail || Object.values(data).map(function (v) { return [].concat(v).join(" "); }).join(" ");
          throw new Error(first || "HTTP " + response.status);
        }
        return data;
      });
    });
  }

  function say(element, text, ok) {
    element.textContent = text;
    element.className = "alert " + (ok ? "alert-success" : "alert-danger");
    element.hidden = false;
  }

  // Login page: options (discoverable, or for the email typed), the browser's choice, then the
  // page's own endpoint, which sets the session cookie as the password form does.
  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.addEventListener("click", function () {
      var status = document.getElementById("passkey-status");
      var emailField = document.getElementById("id_email");
      var email = emailField && emailField.value ? emailField.value : undefined;
      var ceremony;
      post(signIn.dataset.optionsUrl, email ? { email: email } : {})
        .then(function (options) {
          ceremony = options.ceremony;
          return navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
        })
        .then(function (credential) {
          return post(signIn.dataset.loginUrl, { ceremony: ceremony, credential: credentialJSON(credential), next: signIn.dataset.next });
        })
        .then(function (answer) { window.location.assign(answer.next); })
        .catch(function (error) { say(status, "Passkey sign-in failed: " + error.message, false); });
    });
  }

  // Passkeys page: the password again, options, the authenticator makes the passkey, the API keeps it.
  var add = document.getElementById("passkey-add");
  if (add) {
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = document.getElementById("passkey-status");
      var base = add.dataset.passkeysUrl;
      var ceremony;
      post(base + "/options", { current_password: document.getElementById("id_current_password").value })
        .then(function (options) {
          ceremony = options.ceremony;
          return navigator.credentials.create({ publicKey: creationOptions(options.publicKey) });
        })
        .then(function (credential) {
          return post(base, { ceremony: ceremony, credential: credentialJSON(credential), name: document.getElementById("id_passkey_name").value });
        })
        .then(function (passkey) {
          say(status, "Passkey \u201c" + passkey.name + "\u201d added.", true);
          var list = document.getElementById("passkey-list");
          var item = document.createElement("li");
          item.textContent = passkey.name;
          list.appendChild(item);
        })
        .catch(function (error) { say(status, "Adding a passkey failed: " + error.message, false); });
    });
  }
})();
