// Two hand-written SVG charts (no dependency): grouped bars, and lines over a numeric x axis.
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => v.toFixed(Math.max(0, 2 - Math.floor(Math.log10(Math.max(1, Math.abs(v))))));

/** A "nice" upper bound for an axis. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function frame(
  title: string,
  yLabel: string,
  w: number,
  h: number,
  max: number,
  m: { l: number; b: number },
): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text transform="translate(14,${(h - m.b + 30) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = h - m.b - ((h - m.b - 30) * i) / 5;
    out.push(`<line x1="${m.l}" x2="${w - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 5}" y="${y + 4}" text-anchor="end">${fmt((max * i) / 5)}</text>`);
  }
  return out;
}

/** Bars: one group per category, one bar per series; missing values are skipped. */
export function barChart(
  title: string,
  yLabel: string,
  categories: string[],
  series: { name: string; values: (number | undefined)[] }[],
): string {
  const w = Math.max(480, 120 + categories.length * (series.length * 40 + 40)),
    h = 360,
    m = { l: 60, b: 70 };
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const out = frame(title, yLabel, w, h, max, m);
  const groupW = (w - m.l - 10) / Math.max(1, categories.length);
  const barW = Math.min(40, (groupW - 20) / Math.max(1, series.length));
  categories.forEach((c, ci) => {
    const gx = m.l + ci * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined) return;
      const bh = ((h - m.b - 30) * v) / max;
      const x = gx + si * barW;
      out.push(`<rect x="${x}" y="${h - m.b - bh}" width="${barW - 4}" height="${bh}" fill="${COLORS[si % 5]}"/>`);
      out.push(
        `<text x="${x + (barW - 4) / 2}" y="${h - m.b - bh - 4}" text-anchor="middle" font-size="10">${fmt(v)}</text>`,
      );
    });
    out.push(`<text x="${m.l + ci * groupW + groupW / 2}" y="${h - m.b + 18}" text-anchor="middle">${esc(c)}</text>`);
  });
  series.forEach((s, si) => {
    const x = m.l + si * 150;
    out.push(`<rect x="${x}" y="${h - 28}" width="12" height="12" fill="${COLORS[si % 5]}"/>`);
    out.push(`<text x="${x + 16}" y="${h - 18}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Lines over x; each series a list of [x, y]. */
export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: { name: string; points: [number, number][] }[],
): string {
  const w = 640,
    h = 380,
    m = { l: 60, b: 70 };
  const all = series.flatMap((s) => s.points);
  const maxX = niceMax(Math.max(0, ...all.map((p) => p[0])));
  const max = niceMax(Math.max(0, ...all.map((p) => p[1])));
  const out = frame(title, yLabel, w, h, max, m);
  const px = (x: number) => m.l + ((w - m.l - 20) * x) / maxX;
  const py = (y: number) => h - m.b - ((h - m.b - 30) * y) / max;
  for (let i = 0; i <= 5; i++)
    out.push(`<text x="${px((maxX * i) / 5)}" y="${h - m.b + 16}" text-anchor="middle">${fmt((maxX * i) / 5)}</text>`);
  out.push(`<text x="${(w + m.l) / 2}" y="${h - m.b + 34}" text-anchor="middle">${esc(xLabel)}</text>`);
  series.forEach((s, si) => {
    const c = COLORS[si % 5];
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"/>`,
    );
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${c}"/>`);
    out.push(`<rect x="${m.l + si * 150}" y="${h - 22}" width="12" height="12" fill="${c}"/>`);
    out.push(`<text x="${m.l + si * 150 + 16}" y="${h - 12}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
