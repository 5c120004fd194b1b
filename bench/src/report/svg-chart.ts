/** One horizontal bar of a panel. */
export interface Bar {
  label: string;
  value: number | null;
  /** Shown after the value, such as "LG-bound". */
  flag?: string;
}

/** One panel: a titled group of bars on its own scale. */
export interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
}

const WIDTH = 920;
const LABEL_WIDTH = 260;
const VALUE_WIDTH = 170;
const BAR_HEIGHT = 16;
const BAR_GAP = 6;
const PANEL_TITLE_HEIGHT = 26;
const PANEL_GAP = 18;
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

/**
 * Draws the panels as one SVG: a horizontal bar chart per panel, each with its own linear scale
 * from zero, and a colour per label kept the same across panels. Missing values are left blank.
 */
export function renderBarPanels(title: string, subtitle: string, panels: Panel[]): string {
  const colours = new Map<string, string>();
  for (const bar of panels.flatMap((panel) => panel.bars)) {
    if (!colours.has(bar.label)) {
      colours.set(bar.label, PALETTE[colours.size % PALETTE.length] ?? '#888888');
    }
  }

  const parts: string[] = [];
  let y = 56;
  for (const panel of panels) {
    parts.push(`<text x="12" y="${y + 16}" class="panel">${escapeXml(panel.title)} (${escapeXml(panel.unit)})</text>`);
    y += PANEL_TITLE_HEIGHT;
    const max = Math.max(0, ...panel.bars.map((bar) => bar.value ?? 0));
    const scale = max > 0 ? (WIDTH - LABEL_WIDTH - VALUE_WIDTH - 24) / max : 0;
    for (const bar of panel.bars) {
      const width = bar.value === null ? 0 : Math.max(1, bar.value * scale);
      const text = bar.value === null ? 'n/a' : formatValue(bar.value) + (bar.flag === undefined ? '' : ` ${bar.flag}`);
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 4}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colours.get(bar.label) ?? '#888888'}"/>`,
        `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 4}" class="value">${escapeXml(text)}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += PANEL_GAP;
  }

  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.title{font-size:18px;font-weight:bold}.subtitle{font-size:12px;fill:#555}.panel{font-size:14px;font-weight:bold}.label{font-size:12px}.value{font-size:12px;fill:#333}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" class="title">${escapeXml(title)}</text>`,
    `<text x="12" y="42" class="subtitle">${escapeXml(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Formats a value with thousands separators, or two significant decimals below 10. */
export function formatValue(value: number): string {
  if (Math.abs(value) >= 100) {
    return Math.round(value).toLocaleString('en-US');
  }
  if (Math.abs(value) >= 10) {
    return value.toFixed(1);
  }
  return value.toFixed(2);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
