// The browsable API's DELETE dialog, with a reason: DRF's dialog sends a DELETE with no query,
// and DELETE /users/{id} requires ?reason=. The field has no name, so it is not sent as a body;
// its value goes into the form's URL as ?reason=... when the form is submitted.
(function () {
  var form = document.querySelector('#deleteModal form[data-method="DELETE"]');
  if (!form) { return; }
  var body = document.querySelector('#deleteModal .modal-body');
  var summary = document.getElementById('delete-summary');
  if (summary && JSON.parse(summary.textContent)) {
    body.querySelector('h4').textContent = JSON.parse(summary.textContent) + '?';
  }
  var group = document.createElement('div');
  group.className = 'form-group';
  group.style.marginTop = '15px';
  group.innerHTML = '<label for="delete-reason">Reason (kept in the record)</label>' +
    '<input id="delete-reason" class="form-control" maxlength="500" placeholder="e.g. leaving">';
  body.appendChild(group);
  var input = group.querySelector('input');
  var base = form.getAttribute('action').split('?')[0];
  function update() {
    var reason = input.value.trim();
    form.setAttribute('action', reason ? base + '?reason=' + encodeURIComponent(reason) : base);
  }
  input.addEventListener('input', update);
  // The dialog's button submits the form; make sure the last keystroke is in the URL.
  form.addEventListener('submit', update, true);
  update();
})();
