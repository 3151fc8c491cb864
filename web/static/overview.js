// Progressive enhancement for the Overview and Account Information: a copy
// button for the account id, and an offer to save the browser's time zone.
// Both pages work without it: the id is selectable text, the zone a field.
(function () {
  "use strict";
  var copy = document.querySelector("[data-copy]");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var text = document.getElementById(copy.getAttribute("data-copy")).textContent;
      navigator.clipboard.writeText(text).then(function () {
        var status = document.getElementById("copy-status");
        if (status) { status.textContent = copy.getAttribute("data-copied"); }
      });
    });
  }
  var offer = document.getElementById("tz-offer");
  var field = document.getElementById("time_zone");
  if (!offer || !field || !window.Intl) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  var saved = offer.getAttribute("data-saved") || "UTC";
  if (!zone || zone === saved || (saved === "UTC" && zone === "Etc/UTC")) { return; }
  var use = document.getElementById("tz-use");
  use.textContent = offer.getAttribute("data-offer").replace("%s", zone);
  offer.hidden = false;
  use.addEventListener("click", function () {
    field.value = zone;
    field.form.submit();
  });
})();
