import { mkdirSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'

/** Ten simple drawings, one per class, on a 28x28 canvas (`j` varies position and colour a little). */
const DRAW: Record<string, (j: number) => string> = {
  circle: (j) => `<circle cx="${13 + (j % 3)}" cy="14" r="8" fill="C"/>`,
  square: (j) => `<rect x="${6 + (j % 3)}" y="6" width="15" height="15" fill="C"/>`,
  triangle: (j) => `<polygon points="14,${4 + (j % 3)} 24,23 4,23" fill="C"/>`,
  cross: (j) =>
    `<rect x="${11 + (j % 3)}" y="4" width="5" height="20" fill="C"/><rect x="4" y="${11 + (j % 3)}" width="20" height="5" fill="C"/>`,
  ring: (j) => `<circle cx="14" cy="${13 + (j % 3)}" r="8" fill="none" stroke="C" stroke-width="3"/>`,
  bars: (j) =>
    [0, 1, 2].map((k) => `<rect x="4" y="${4 + k * 8 + (j % 2)}" width="20" height="4" fill="C"/>`).join(''),
  columns: (j) =>
    [0, 1, 2].map((k) => `<rect x="${4 + k * 8 + (j % 2)}" y="4" width="4" height="20" fill="C"/>`).join(''),
  diamond: (j) => `<polygon points="14,${3 + (j % 2)} 25,14 14,25 3,14" fill="C"/>`,
  dots: (j) =>
    [6, 14, 22]
      .flatMap((x) => [6, 14, 22].map((y) => `<circle cx="${x}" cy="${y + (j % 2)}" r="2" fill="C"/>`))
      .join(''),
  half: (j) => `<rect x="0" y="${14 + (j % 3)}" width="28" height="14" fill="C"/>`,
}
const COLOURS = ['#1d3557', '#e63946', '#2a9d8f', '#6a4c93', '#f77f00']

/**
 * Writes a folder of ten classes (one subfolder each, `perClass` 28x28 PNGs): what a first-time user might
 * pick. Returns the class names.
 */
export async function makeTenClassFolder(root: string, perClass = 20): Promise<string[]> {
  for (const [name, draw] of Object.entries(DRAW)) {
    mkdirSync(path.join(root, name), { recursive: true })
    for (let j = 0; j < perClass; j++) {
      const shape = draw(j).replaceAll('"C"', `"${COLOURS[j % COLOURS.length]}"`)
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="28" height="28" fill="#f6f4ee"/>${shape}</svg>`
      await sharp(Buffer.from(svg))
        .png()
        .toFile(path.join(root, name, `${name}-${j + 1}.png`))
    }
  }
  return Object.keys(DRAW)
}
