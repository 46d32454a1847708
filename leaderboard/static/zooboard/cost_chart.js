// The leaderboard's chart: each ranked model's headline metric (with its 95% interval) against GMACs per image
// or throughput, on a log axis. Data comes from the page itself (json_script); Chart.js is served by the site.
(function () {
  "use strict";
  const canvas = document.getElementById("cost-chart");
  const source = document.getElementById("cost-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const points = JSON.parse(source.textContent);
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#1f4fbf";
  const titles = { gmacs: "GMACs per image (log scale)", throughput: "images/s at the evaluation batch size (log scale)" };

  function dataFor(axis) {
    return points
      .filter((point) => point[axis] !== null && point.value !== null)
      .map((point) => ({ x: point[axis], y: point.value * 100, point: point }));
  }

  // Draws each point's interval as a vertical bar and its name beside it; Chart.js has neither built in.
  const intervalsAndNames = {
    id: "intervalsAndNames",
    afterDatasetsDraw(chart) {
      const context = chart.ctx;
      const meta = chart.getDatasetMeta(0);
      context.save();
      context.strokeStyle = accent;
      context.fillStyle = "#444";
      context.font = "12px system-ui, sans-serif";
      meta.data.forEach((element, index) => {
        const point = chart.data.datasets[0].data[index].point;
        if (point.low !== null && point.high !== null) {
          const top = chart.scales.y.getPixelForValue(point.high * 100);
          const bottom = chart.scales.y.getPixelForValue(point.low * 100);
          context.beginPath();
          context.moveTo(element.x, top);
          context.lineTo(element.x, bottom);
          context.stroke();
        }
        // names go left of points near the right edge, and alternate above and below so neighbours stay legible
        const width = context.measureText(point.name).width;
        const x = element.x + 6 + width > chart.chartArea.right ? element.x - 6 - width : element.x + 6;
        context.fillText(point.name, x, point.rank % 2 ? element.y - 6 : element.y + 14);
      });
      context.restore();
    },
  };

  const chart = new Chart(canvas, {
    type: "scatter",
    data: { datasets: [{ data: dataFor("gmacs"), backgroundColor: accent, pointRadius: 4 }] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      layout: { padding: { top: 12, right: 12 } },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item) => {
              const point = item.raw.point;
              const interval = point.low !== null ? ` (${(point.low * 100).toFixed(2)}–${(point.high * 100).toFixed(2)})` : "";
              return `#${point.rank} ${point.name}: ${item.raw.y.toFixed(2)}%${interval}, ${item.raw.x.toLocaleString()}`;
            },
          },
        },
      },
      scales: {
        x: { type: "logarithmic", title: { display: true, text: titles.gmacs } },
        y: { grace: "5%", title: { display: true, text: `${canvas.dataset.metric} (%)` } },
      },
      onClick: (event, elements) => {
        if (elements.length) window.location = chart.data.datasets[0].data[elements[0].index].point.url;
      },
    },
    plugins: [intervalsAndNames],
  });

  document.querySelectorAll(".cost-chart button[data-axis]").forEach((button) => {
    button.addEventListener("click", () => {
      const axis = button.dataset.axis;
      chart.data.datasets[0].data = dataFor(axis);
      chart.options.scales.x.title.text = titles[axis];
      chart.update();
      document.querySelectorAll(".cost-chart button[data-axis]").forEach((other) => other.classList.toggle("active", other === button));
    });
  });
})();
