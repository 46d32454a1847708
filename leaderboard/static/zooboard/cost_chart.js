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

  // The Pareto front (worked out on the server: leaderboard/charts.py), joined in order of cost.
  function frontFor(axis) {
    return dataFor(axis)
      .filter((item) => item.point[`pareto_${axis}`])
      .sort((a, b) => a.x - b.x);
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
      const placed = [];
      let labelled = 0;
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
        // names go left of points near the right edge, above or below, wherever they overlap no name drawn
        // already; a name with no free place is left to the tooltip rather than drawn over another
        const width = context.measureText(point.name).width;
        const x = element.x + 6 + width > chart.chartArea.right ? element.x - 6 - width : element.x + 6;
        const place = [element.y - 6, element.y + 14].find((y) => {
          const box = { left: x, right: x + width, top: y - 11, bottom: y + 2 };
          return !placed.some((other) => box.left < other.right && other.left < box.right && box.top < other.bottom && other.top < box.bottom);
        });
        if (place === undefined) return;
        placed.push({ left: x, right: x + width, top: place - 11, bottom: place + 2 });
        context.fillText(point.name, x, place);
        labelled += 1;
      });
      context.restore();
      canvas.dataset.drawn = String(meta.data.length);
      canvas.dataset.labelled = String(labelled);
    },
  };

  const chart = new Chart(canvas, {
    type: "scatter",
    data: {
      datasets: [
        { label: "models", data: dataFor("gmacs"), backgroundColor: accent, pointRadius: 4 },
        { label: "Pareto front", type: "line", data: frontFor("gmacs"), borderColor: "#067647", borderDash: [5, 3], pointRadius: 0, stepped: false },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      layout: { padding: { top: 12, right: 12 } },
      plugins: {
        legend: { display: true, labels: { filter: (item) => item.text === "Pareto front" } },
        tooltip: {
          filter: (item) => item.datasetIndex === 0,
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
        const hit = elements.find((element) => element.datasetIndex === 0);
        if (hit) window.location = chart.data.datasets[0].data[hit.index].point.url;
      },
    },
    plugins: [intervalsAndNames],
  });

  document.querySelectorAll(".cost-chart button[data-axis]").forEach((button) => {
    button.addEventListener("click", () => {
      const axis = button.dataset.axis;
      chart.data.datasets[0].data = dataFor(axis);
      chart.data.datasets[1].data = frontFor(axis);
      chart.options.scales.x.title.text = titles[axis];
      chart.update();
      document.querySelectorAll(".cost-chart button[data-axis]").forEach((other) => other.classList.toggle("active", other === button));
    });
  });
})();
