/**
 * The "Metrics" section: the selected running container's CPU and memory as
 * one-minute sparklines with the current numbers, plus processes, disk and
 * network, from the socket's `metrics` pushes.
 */
import { ReactWidget } from '@jupyterlab/apputils';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { Panel } from '@lumino/widgets';
import React from 'react';

import { MetricsFeed, formatBytes, sparklinePoints } from '../metrics';
import { ContainerManagerModel } from '../model';
import { NoContainerNote } from './nocontainer';
import { createSection } from './section';

const WIDTH = 120;
const HEIGHT = 28;

function Sparkline(props: {
  values: number[];
  max: number;
  label: string;
  kind: 'cpu' | 'memory';
}): JSX.Element {
  return (
    <svg
      className={`jp-ContainerManager-sparkline jp-ContainerManager-sparkline-${props.kind}`}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={props.label}
      preserveAspectRatio="none"
    >
      <polyline
        fill="none"
        strokeWidth="1.5"
        vectorEffect="non-scaling-stroke"
        points={sparklinePoints(props.values, WIDTH, HEIGHT, props.max)}
      />
    </svg>
  );
}

class MetricsView extends ReactWidget {
  constructor(
    private readonly _model: ContainerManagerModel,
    private readonly _feed: MetricsFeed,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-ContainerManager-metrics');
    _model.changed.connect(this._follow, this);
    _feed.changed.connect(() => this.update(), this);
    this._follow();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._feed.follow(null);
    super.dispose();
  }

  /** Follow the selected container while it runs; stop otherwise. */
  private _follow(): void {
    const selected = this._model.selected;
    this._feed.follow(
      selected && selected.status === 'running' ? selected.id : null
    );
    this.update();
  }

  render(): JSX.Element {
    const trans = this._trans;
    const selected = this._model.selected;
    if (!selected || selected.status !== 'running') {
      return <NoContainerNote trans={trans} selected={selected} />;
    }
    const samples = this._feed.history.samples;
    const latest = this._feed.history.latest;
    if (!latest) {
      return (
        <div className="jp-ContainerManager-empty">
          {trans.__('Waiting for the first reading…')}
        </div>
      );
    }
    // CPU in percent of one core: the top of the plot is all the cores the
    // container may use.
    const cores = latest.cpu.limit > 0 ? latest.cpu.limit : latest.cpu.cores;
    const cpuMax = Math.max(100 * cores, 1);
    const cpuNow = `${latest.cpu.percent.toFixed(1)} %`;
    const memNow = formatBytes(latest.memory.used);
    const memLimit = formatBytes(latest.memory.limit);
    return (
      <div data-container-id={selected.id}>
        <dl className="jp-ContainerManager-metricList">
          <div className="jp-ContainerManager-metric" data-metric="cpu">
            <dt>{trans.__('CPU')}</dt>
            <dd>
              <Sparkline
                kind="cpu"
                values={samples.map(s => s.cpu.percent)}
                max={cpuMax}
                label={trans.__('CPU over the last minute, now %1', cpuNow)}
              />
              <span className="jp-ContainerManager-metricValue">{cpuNow}</span>
            </dd>
          </div>
          <div className="jp-ContainerManager-metric" data-metric="memory">
            <dt>{trans.__('Memory')}</dt>
            <dd>
              <Sparkline
                kind="memory"
                values={samples.map(s => s.memory.used)}
                max={latest.memory.limit}
                label={trans.__(
                  'Memory over the last minute, now %1 of %2',
                  memNow,
                  memLimit
                )}
              />
              <span className="jp-ContainerManager-metricValue">
                {trans.__('%1 / %2', memNow, memLimit)}
              </span>
            </dd>
          </div>
        </dl>
        <p className="jp-ContainerManager-metricFacts">
          <span data-metric="processes">
            {latest.processes.limit > 0
              ? trans.__(
                  'Processes: %1 / %2',
                  latest.processes.count,
                  latest.processes.limit
                )
              : trans.__('Processes: %1', latest.processes.count)}
          </span>
          {latest.disk.used !== null ? (
            <span data-metric="disk">
              {trans.__('Disk: %1', formatBytes(latest.disk.used))}
            </span>
          ) : null}
          <span data-metric="network">
            {trans.__(
              'Network: ↓ %1 ↑ %2',
              formatBytes(latest.network.rx),
              formatBytes(latest.network.tx)
            )}
          </span>
        </p>
      </div>
    );
  }
}

/** The section: the metrics of the selected container. */
export function createMetricsSection(
  model: ContainerManagerModel,
  feed: MetricsFeed,
  translator: ITranslator = nullTranslator
): Panel {
  const trans = translator.load('jupyter_container_manager');
  return createSection(
    'jp-ContainerManager-metricsSection',
    trans.__('Metrics'),
    new MetricsView(model, feed, trans)
  );
}
