// A submission page's charts, one set per label set: the headline per slice (bars with their 95% intervals, the
// overall headline as a line), the reliability diagram (accuracy against confidence in 15 bins, with the bins'
// image counts) and the confusion matrix as a heat map. The data are aggregates stored at scoring time, written
// into the page (json_script) as this reader may see them; a withheld figure is null and is not drawn.
// Each canvas gets data-drawn="N": the points, bars or cells it drew (the browser tests read it).
(function () {
  "use strict";
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#2457c5";

  function scaled(value, loss) {
    return value === null || value === undefined ? null : loss ? value : value * 100;
  }

  // Draws each bar's interval and a reference line, clipped to the chart area so that nothing runs outside the
  // axes; Chart.js has neither built in.
  function intervalsAndLine(reference, intervals) {
    return {
      id: "intervalsAndLine",
      afterDatasetsDraw(chart) {
        const context = chart.ctx;
        const area = chart.chartArea;
        const y = chart.scales.y;
        context.save();
        context.beginPath();
        context.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        context.clip();
        context.strokeStyle = "#1d2330";
        chart.getDatasetMeta(0).data.forEach((bar, index) => {
          const interval = intervals[index];
          if (!interval) return;
          const top = y.getPixelForValue(interval[1]);
          const bottom = y.getPixelForValue(interval[0]);
          context.beginPath();
          context.moveTo(bar.x, top);
          context.lineTo(bar.x, bottom);
          context.moveTo(bar.x - 4, top);
          context.lineTo(bar.x + 4, top);
          context.moveTo(bar.x - 4, bottom);
          context.lineTo(bar.x + 4, bottom);
          context.stroke();
        });
        if (reference !== null) {
          const level = y.getPixelForValue(reference);
          context.setLineDash([6, 4]);
          context.strokeStyle = "#b42318";
          context.beginPath();
          context.moveTo(area.left, level);
          context.lineTo(area.right, level);
          context.stroke();
        }
        context.restore();
      },
    };
  }

  function sliceChart(canvas, data) {
    const slices = data.slicers[canvas.dataset.slicer] || [];
    const loss = data.headline.loss;
    const shown = slices.filter((item) => item.value !== null);
    const values = shown.map((item) => scaled(item.value, loss));
    const intervals = shown.map((item) =>
      item.low !== null && item.high !== null ? [scaled(item.low, loss), scaled(item.high, loss)] : null
    );
    const reference = scaled(data.headline.value, loss);
    const everything = values.concat(intervals.flat().filter((v) => v !== null), reference === null ? [] : [reference]);
    const low = Math.min(...everything);
    const high = Math.max(...everything);
    const margin = (high - low) * 0.08 || 1;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: shown.map((item) => item.name),
        datasets: [{ label: data.headline.title, data: values, backgroundColor: accent + "99", borderColor: accent }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: {
            min: Math.max(0, low - margin),
            max: loss ? high + margin : Math.min(100, high + margin),
            title: { display: true, text: data.headline.title + (loss ? "" : " (%)") },
          },
          x: { title: { display: true, text: canvas.dataset.slicer } },
        },
        plugins: {
          legend: { display: false },
          title: { display: true, text: `${data.headline.title} per ${canvas.dataset.slicer} slice; dashed: overall` },
          tooltip: {
            callbacks: {
              label: (item) => {
                const slice = shown[item.dataIndex];
                const interval = intervals[item.dataIndex];
                const range = interval ? ` (${interval[0].toFixed(2)}–${interval[1].toFixed(2)})` : "";
                return `${item.raw.toFixed(loss ? 4 : 2)}${range}, ${slice.count} images`;
              },
            },
          },
        },
      },
      plugins: [intervalsAndLine(reference, intervals)],
    });
    canvas.dataset.drawn = String(shown.length);
  }

  function reliabilityChart(canvas, data) {
    const bins = data.reliability;
    const drawn = bins.filter((bin) => bin.accuracy !== null);
    new Chart(canvas, {
      data: {
        labels: bins.map((bin) => `${bin.low.toFixed(2)}–${bin.high.toFixed(2)}`),
        datasets: [
          {
            type: "bar",
            label: "accuracy (%)",
            data: bins.map((bin) => scaled(bin.accuracy, false)),
            backgroundColor: accent + "99",
            borderColor: accent,
          },
          {
            type: "line",
            label: "perfect calibration",
            data: bins.map((bin) => ((bin.low + bin.high) / 2) * 100),
            borderColor: "#b42318",
            borderDash: [6, 4],
            pointRadius: 0,
          },
          {
            type: "line",
            label: "images in the bin",
            data: bins.map((bin) => bin.count),
            yAxisID: "count",
            borderColor: "#667085",
            pointRadius: 2,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: { min: 0, max: 100, title: { display: true, text: "accuracy (%)" } },
          count: { position: "right", type: "logarithmic", title: { display: true, text: "images" }, grid: { drawOnChartArea: false } },
          x: { title: { display: true, text: "top-1 confidence" } },
        },
        plugins: {
          title: { display: true, text: "Reliability diagram (15 bins)" },
          tooltip: {
            callbacks: {
              afterLabel: (item) => {
                const bin = bins[item.dataIndex];
                if (bin.withheld) return bin.withheld;
                return bin.confidence !== null ? `mean confidence ${(bin.confidence * 100).toFixed(2)}%` : "";
              },
            },
          },
        },
      },
    });
    canvas.dataset.drawn = String(drawn.length);
  }

  // No Chart.js type draws a matrix: cells drawn directly, shaded by the share of their row (true class).
  function confusionChart(canvas, data) {
    const matrix = data.confusion.matrix;
    const names = data.class_names;
    const size = matrix.length;
    const label = size <= 20 ? 90 : 0;
    const cell = Math.max(4, Math.floor(Math.min(560, canvas.parentElement.clientWidth - label - 10) / size));
    canvas.width = label + cell * size + 1;
    canvas.height = label + cell * size + 1;
    const context = canvas.getContext("2d");
    context.font = "11px system-ui, sans-serif";
    context.fillStyle = "#1d2330";
    let drawn = 0;
    matrix.forEach((row, i) => {
      if (label) {
        context.textAlign = "right";
        context.fillText(names[i] || String(i), label - 4, label + i * cell + cell / 2 + 4);
      }
      if (row === null) {
        context.fillStyle = "#e4e7ec"; // withheld: too few images of this class
        context.fillRect(label, label + i * cell, cell * size, cell);
        context.fillStyle = "#1d2330";
        return;
      }
      const total = row.reduce((sum, count) => sum + count, 0) || 1;
      row.forEach((count, j) => {
        const share = count / total;
        context.fillStyle = i === j ? `rgba(6, 118, 71, ${0.15 + 0.85 * share})` : `rgba(180, 35, 24, ${Math.min(1, share * 4)})`;
        context.fillRect(label + j * cell, label + i * cell, cell - 1, cell - 1);
        drawn += 1;
      });
      context.fillStyle = "#1d2330";
    });
    if (label) {
      names.slice(0, size).forEach((name, j) => {
        context.save();
        context.translate(label + j * cell + cell / 2 + 4, label - 4);
        context.rotate(-Math.PI / 2);
        context.textAlign = "left";
        context.fillText(name, 0, 0);
        context.restore();
      });
    }
    canvas.dataset.drawn = String(drawn);
  }

  const draw = { slices: sliceChart, reliability: reliabilityChart, confusion: confusionChart };
  document.querySelectorAll(".charts").forEach((box) => {
    const source = box.querySelector('script[type="application/json"]');
    if (!source) return;
    const data = JSON.parse(source.textContent);
    box.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (canvas.dataset.chart !== "confusion" && !window.Chart) return;
      draw[canvas.dataset.chart](canvas, data);
    });
  });
})();
