// Draws new fashion lines in the browser with the release's generator and TensorFlow.js (the
// global `tf` from tf.min.js, served next to this file). The page provides every number in
// #live-config: the pixel range and image size are written by the publish stage from
// lib/constants.ts, so the canvas shows outputs exactly as the server-side PNGs do.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('live-config').textContent);
  var button = document.getElementById('live-draw');
  var status = document.getElementById('live-status');
  var canvas = document.getElementById('live-canvas');
  var GAP = 2;
  var model = null;

  function selectedLabels() {
    var boxes = document.querySelectorAll('#live-categories input[name="category"]:checked');
    return Array.prototype.map.call(boxes, function (box) { return Number(box.value); });
  }

  // Same mapping as pixelToByte in lib/constants.ts: clamp to the range, then scale to 0..255.
  function toByte(value) {
    var low = config.pixelRange[0];
    var high = config.pixelRange[1];
    var unit = Math.min(1, Math.max(0, (value - low) / (high - low)));
    return Math.round(unit * 255);
  }

  // One latent vector per style, repeated across the chosen categories, so that a row shows
  // the same style in every category.
  function generate(labels) {
    var styles = config.styles;
    var columns = labels.length;
    return tf.tidy(function () {
      var latent = tf.randomNormal([styles, config.latentSize]);
      var repeated = latent.expandDims(1).tile([1, columns, 1]).reshape([styles * columns, config.latentSize]);
      if (!config.conditional) return model.predict(repeated);
      var labelValues = [];
      for (var s = 0; s < styles; s += 1) labelValues.push.apply(labelValues, labels);
      var labelTensor = tf.tensor2d(labelValues, [styles * columns, 1], 'float32');
      return model.predict([repeated, labelTensor]);
    });
  }

  function paint(values, rows, columns) {
    var size = config.imageSize;
    var cell = size * config.scale;
    canvas.width = columns * (cell + GAP) + GAP;
    canvas.height = rows * (cell + GAP) + GAP;
    var context = canvas.getContext('2d');
    var image = context.createImageData(canvas.width, canvas.height);
    for (var r = 0; r < rows; r += 1) {
      for (var c = 0; c < columns; c += 1) {
        var offset = (r * columns + c) * size * size;
        for (var y = 0; y < cell; y += 1) {
          for (var x = 0; x < cell; x += 1) {
            var source = offset + Math.floor(y / config.scale) * size + Math.floor(x / config.scale);
            var byte = toByte(values[source]);
            var target = ((GAP + r * (cell + GAP) + y) * canvas.width + GAP + c * (cell + GAP) + x) * 4;
            image.data[target] = byte;
            image.data[target + 1] = byte;
            image.data[target + 2] = byte;
            image.data[target + 3] = 255;
          }
        }
      }
    }
    // Gaps stay transparent and show the canvas background.
    context.putImageData(image, 0, 0);
  }

  async function draw() {
    var labels = selectedLabels();
    if (labels.length === 0) {
      status.textContent = 'Pick at least one category.';
      return;
    }
    button.disabled = true;
    status.textContent = 'Drawing…';
    var started = performance.now();
    var output = generate(labels);
    try {
      var values = await output.data();
      paint(values, config.styles, labels.length);
    } finally {
      output.dispose();
      button.disabled = false;
    }
    var seconds = (performance.now() - started) / 1000;
    status.textContent = 'Drew ' + config.styles + ' styles × ' + labels.length +
      ' categories in ' + seconds.toFixed(2) + ' s (backend ' + tf.getBackend() + ').';
    canvas.dataset.draws = String(Number(canvas.dataset.draws || '0') + 1);
  }

  async function start() {
    try {
      model = await tf.loadLayersModel(config.modelUrl);
    } catch (error) {
      status.textContent = 'The generator failed to load: ' + error.message;
      throw error;
    }
    button.addEventListener('click', function () {
      draw().catch(function (error) {
        status.textContent = 'Drawing failed: ' + error.message;
        throw error;
      });
    });
    await draw();
  }

  start();
})();
