// A board's second chart: each model of the page at its top-1 under the original labels (x) and under the
// clean labels (y), with the diagonal: above it, a model gains from corrected labels. Data from the page.
(function () {
  "use strict";
  const canvas = document.getElementById("noise-chart");
  const source = document.getElementById("noise-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const points = JSON.parse(source.textContent);
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#2457c5";
  const data = points.map((point) => ({ x: point.original * 100, y: point.clean * 100, point: point }));
  const values = data.flatMap((item) => [item.x, item.y]);
  const low = Math.floor(Math.min(...values) - 1);
  const high = Math.ceil(Math.max(...values) + 1);
  const chart = new Chart(canvas, {
    type: "scatter",
    data: {
      datasets: [
        { label: "models", data: data, backgroundColor: data.map((item) => (item.y >= item.x ? "#067647" : "#b42318")), pointRadius: 4 },
        { label: "same under both", type: "line", data: [{ x: low, y: low }, { x: high, y: high }], borderColor: "#667085", borderDash: [5, 3], pointRadius: 0 },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { min: low, max: high, title: { display: true, text: "top-1 under the original labels (%)" } },
        y: { min: low, max: high, title: { display: true, text: "top-1 under the clean labels (%)" } },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          filter: (item) => item.datasetIndex === 0,
          callbacks: {
            label: (item) => {
              const point = item.raw.point;
              const gain = item.raw.y - item.raw.x;
              return `#${point.rank} ${point.name}: ${item.raw.x.toFixed(2)}% → ${item.raw.y.toFixed(2)}% (${gain >= 0 ? "+" : ""}${gain.toFixed(2)} pts)`;
            },
          },
        },
      },
      onClick: (event, elements) => {
        const hit = elements.find((element) => element.datasetIndex === 0);
        if (hit) window.location = data[hit.index].point.url;
      },
    },
  });
  canvas.dataset.drawn = String(chart.data.datasets[0].data.length);
})();
