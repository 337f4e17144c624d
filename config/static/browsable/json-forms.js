// The browsable API's field-by-field forms (common/browsable.py HTML_FORMS: register, the mail
// links' pages) are posted as JSON, the one body the API takes: on submit, the fields become a JSON
// object that DRF's own form script (ajax-form.js) sends with Content-Type: application/json, as
// it does for the raw-data form. Runs before that script's handler (capture phase, same element).
(function () {
  function hidden(form, tag, override, value) {
    var element = form.querySelector(tag + '[data-override="' + override + '"]');
    if (!element) {
      element = document.createElement(tag);
      element.setAttribute('data-override', override);
      element.hidden = true;
      if (tag === 'input') { element.type = 'hidden'; }
      form.appendChild(element);
    }
    element.value = value;
  }
  document.querySelectorAll('#post-object-form form, #put-object-form form').forEach(function (form) {
    form.addEventListener('submit', function () {
      var body = {};
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name || field.name === 'csrfmiddlewaretoken' || field.hasAttribute('data-override')) { return; }
        if (field.type === 'checkbox') { body[field.name] = field.checked; return; }
        body[field.name] = field.value;
      });
      hidden(form, 'input', 'content-type', 'application/json');
      hidden(form, 'textarea', 'content', JSON.stringify(body));
    }, true);
  });
})();
