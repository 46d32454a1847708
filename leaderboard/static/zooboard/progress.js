// Follows an unfinished submission through the API and reloads the page when it finishes.
(function () {
  const status = document.getElementById("status");
  if (!status || status.dataset.finished === "1") return;
  const finished = ["done", "failed", "cancelled"];
  async function poll() {
    const response = await fetch(status.dataset.api, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const submission = await response.json();
      document.getElementById("status-value").textContent = submission.status;
      document.getElementById("progress").value = submission.progress.done;
      document.getElementById("progress-text").textContent = submission.progress.done + " / " + submission.progress.total;
      if (finished.includes(submission.status)) { window.location.reload(); return; }
    }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
