#!/usr/bin/env node
// Builds resources/sample/fashion-mnist: a small class-balanced subset of Fashion-MNIST in IDX format.
// Source: the Debian package dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist, or the folder
// given as the first argument). Deterministic: the first N images of each class in file order are taken.
// Usage: node scripts/make-sample.mjs [sourceDir] [trainPerClass=250] [testPerClass=50]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync, gzipSync } from 'node:zlib'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const sourceDir = process.argv[2] ?? '/usr/share/datasets/fashion-mnist'
const trainPerClass = Number(process.argv[3] ?? 250)
const testPerClass = Number(process.argv[4] ?? 50)
const outDir = path.join(root, 'resources', 'sample', 'fashion-mnist')

function readIdx(file) {
  const buf = gunzipSync(readFileSync(path.join(sourceDir, file)))
  const ndim = buf[3]
  const dims = []
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i))
  return { dims, data: buf.subarray(4 + 4 * ndim) }
}

function writeIdx(file, typeByte, dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length)
  header[2] = typeByte
  header[3] = dims.length
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i))
  // mtime 0 in the gzip header keeps the output byte-identical across runs
  writeFileSync(path.join(outDir, file), gzipSync(Buffer.concat([header, data]), { level: 9 }))
}

function subset(prefix, perClass) {
  const images = readIdx(`${prefix}-images-idx3-ubyte.gz`)
  const labels = readIdx(`${prefix}-labels-idx1-ubyte.gz`)
  const pixels = images.dims[1] * images.dims[2]
  const taken = new Array(10).fill(0)
  const chosen = []
  for (let i = 0; i < labels.dims[0] && chosen.length < perClass * 10; i++) {
    const label = labels.data[i]
    if (taken[label] < perClass) {
      taken[label]++
      chosen.push(i)
    }
  }
  const outImages = Buffer.alloc(chosen.length * pixels)
  const outLabels = Buffer.alloc(chosen.length)
  chosen.forEach((src, dst) => {
    images.data.copy(outImages, dst * pixels, src * pixels, (src + 1) * pixels)
    outLabels[dst] = labels.data[src]
  })
  writeIdx(`${prefix}-images-idx3-ubyte.gz`, 0x08, [chosen.length, images.dims[1], images.dims[2]], outImages)
  writeIdx(`${prefix}-labels-idx1-ubyte.gz`, 0x08, [chosen.length], outLabels)
  return chosen.length
}

mkdirSync(outDir, { recursive: true })
const numTrain = subset('train', trainPerClass)
const numTest = subset('t10k', testPerClass)

writeFileSync(
  path.join(outDir, 'LICENSE'),
  `The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
IN THE SOFTWARE.
`,
)

writeFileSync(
  path.join(outDir, 'README.md'),
  `# Fashion-MNIST sample (${(numTrain + numTest).toLocaleString('en-US')} images)

A small, class-balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Xiao, Rasul and Vollgraf, 2017; MIT licence, (c) Zalando SE, see LICENSE) bundled so that NAS Studio can
run a search out of the box.

- train: ${numTrain} images (${trainPerClass} per class), from the original 60,000-image training set
- test (t10k): ${numTest} images (${testPerClass} per class), from the original 10,000-image test set
- 28x28 grayscale, uint8, labels 0-9: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker,
  Bag, Ankle boot

Made by \`node scripts/make-sample.mjs\` from the Debian package \`dataset-fashion-mnist\`
(/usr/share/datasets/fashion-mnist): for each class, the first images of that class in file order.
The files keep the original gzipped IDX format.
`,
)
console.log(`Wrote ${numTrain} train and ${numTest} test images to ${path.relative(root, outDir)}`)
