"""Trains the default fashion-gan DCGAN with Keras, for the speed comparison in bench/train.ts.

The models and the step mirror lib/models/generator.ts, lib/models/discriminator.ts and
stages/train/gan.ts: the same layers, batch size, optimizer and one discriminator pass over real
and generated images together. Prints one JSON line per mode (eager, tf.function, XLA) with
training images per second and the process's peak resident memory.

Usage: python bench/keras_gan.py DATA.u8 LABELS.u8 COUNT --steps N --batch 64 --threads 2
"""

import argparse
import json
import resource
import time

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

LATENT = 100
CLASSES = 10


def generator(width: int) -> keras.Model:
    latent = keras.Input((LATENT,))
    label = keras.Input((1,))
    embedded = layers.Flatten()(layers.Embedding(CLASSES, 50)(label))
    x = layers.Concatenate()([latent, embedded])
    x = layers.Dense(7 * 7 * width, use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
    x = layers.Reshape((7, 7, width))(x)
    x = layers.Conv2DTranspose(width // 2, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh")(x)
    return keras.Model([latent, label], image)


def discriminator(width: int) -> keras.Model:
    image = keras.Input((28, 28, 1))
    label = keras.Input((1,))
    plane = layers.Reshape((28, 28, 1))(layers.Embedding(CLASSES, 784)(label))
    x = layers.Concatenate()([image, plane])
    for filters in (width, width * 2):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(x))
    logit = layers.Dense(1)(layers.Flatten()(x))
    return keras.Model([image, label], logit)


def make_step(g, d, g_opt, d_opt, batch, real_label, compile_mode):
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def step(real, real_labels):
        fake_labels = tf.random.uniform((batch, 1), 0, CLASSES, dtype=tf.int32)
        fake_labels = tf.cast(fake_labels, tf.float32)
        fake = g([tf.random.normal((batch, LATENT)), fake_labels], training=True)
        images = tf.concat([real, fake], 0)
        labels = tf.concat([real_labels, fake_labels], 0)
        targets = tf.concat([tf.fill((batch, 1), real_label), tf.zeros((batch, 1))], 0)
        with tf.GradientTape() as tape:
            d_loss = bce(targets, d([images, labels], training=True))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))

        g_labels = tf.cast(tf.random.uniform((batch, 1), 0, CLASSES, dtype=tf.int32), tf.float32)
        with tf.GradientTape() as tape:
            logits = d([g([tf.random.normal((batch, LATENT)), g_labels], training=True), g_labels], training=True)
            g_loss = bce(tf.ones((batch, 1)), logits)
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))
        return d_loss, g_loss

    if compile_mode == "eager":
        return step
    return tf.function(step, jit_compile=(compile_mode == "xla"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("images")
    parser.add_argument("labels")
    parser.add_argument("count", type=int)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--generator-width", type=int, default=128)
    parser.add_argument("--discriminator-width", type=int, default=64)
    parser.add_argument("--modes", default="eager,function,xla")
    args = parser.parse_args()

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    tf.random.set_seed(1)
    pixels = np.fromfile(args.images, dtype=np.uint8)[: args.count * 784]
    images = (pixels.reshape(-1, 28, 28, 1).astype(np.float32) / 127.5 - 1.0)
    labels = np.fromfile(args.labels, dtype=np.uint8)[: args.count].astype(np.float32).reshape(-1, 1)

    for mode in args.modes.split(","):
        g, d = generator(args.generator_width), discriminator(args.discriminator_width)
        g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        step = make_step(g, d, g_opt, d_opt, args.batch, 0.9, mode)
        batches = len(images) // args.batch

        def run(n):
            for i in range(n):
                start = (i % batches) * args.batch
                real = tf.constant(images[start : start + args.batch])
                real_labels = tf.constant(labels[start : start + args.batch])
                d_loss, g_loss = step(real, real_labels)
            return float(d_loss), float(g_loss)

        run(5)  # tracing and compilation are not training speed
        started = time.perf_counter()
        d_loss, g_loss = run(args.steps)
        seconds = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({
            "mode": mode, "steps": args.steps, "batch": args.batch,
            "images_per_second": args.steps * args.batch / seconds,
            "peak_rss_mib": round(peak_mib), "d_loss": d_loss, "g_loss": g_loss,
        }), flush=True)


if __name__ == "__main__":
    main()
