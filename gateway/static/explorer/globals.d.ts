// What the page adds to `window` for the type check (jsconfig.json): vega-embed's global from its vendored
// script, and the explorer's own state that the browser tests read.
interface Window {
  vegaEmbed(container: HTMLElement, spec: object, options?: object): Promise<{ view: any }>;
  explorer: {
    charts: Record<string, any>;
    timings: { view: string; part?: string; ms: number; sinceNavigation: number }[];
    renders: number;
  };
}
