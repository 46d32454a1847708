// The clean board's label-noise re-ranking chart: each of the page's first entries as a line (top-1 on
// corrected labels against the share of originally mislabeled images), a ring where the next entry overtakes it.
(function () {
  "use strict";
  const canvas = document.getElementById("curves-chart");
  const source = document.getElementById("curves-chart-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const colours = ["#2457c5", "#b42318", "#067647", "#b54708", "#6941c6"];
  const lines = data.lines.map((line, index) => ({
    type: "line",
    label: `#${line.rank} ${line.name}`,
    data: line.curve.map(([share, accuracy]) => ({ x: share * 100, y: accuracy * 100 })),
    borderColor: colours[index % colours.length],
    backgroundColor: colours[index % colours.length],
    pointRadius: 2,
  }));
  const crossings = {
    type: "scatter",
    label: "overtaken here",
    data: data.crossings.map((c) => ({ x: c.share * 100, y: c.accuracy * 100, crossing: c })),
    pointStyle: "circle",
    pointRadius: 8,
    borderColor: "#1d2330",
    borderWidth: 2,
    backgroundColor: "rgba(0, 0, 0, 0)",
  };
  new Chart(canvas, {
    data: { datasets: lines.concat([crossings]) },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "originally mislabeled share of the images kept (%)" } },
        y: { grace: "5%", title: { display: true, text: "top-1 on corrected labels (%)" } },
      },
      plugins: {
        tooltip: {
          callbacks: {
            label: (item) => {
              const crossing = item.raw.crossing;
              if (crossing) return `${crossing.behind} overtakes ${crossing.ahead} at ${item.raw.x.toFixed(0)}%`;
              return `${item.dataset.label}: ${item.raw.y.toFixed(2)}% at ${item.raw.x.toFixed(1)}%`;
            },
          },
        },
      },
    },
  });
  canvas.dataset.drawn = String(lines.reduce((sum, line) => sum + line.data.length, 0));
  canvas.dataset.crossings = String(data.crossings.length);
})();
