import { DEPENDENCY_KINDS, type DependencyKind } from './model.js';
import { toSeconds, type GraphView } from './graph.js';

/** An asset the incident hits directly: it loses `loss` of its service from `atHours` on. */
export interface InitialDamage {
  readonly node: number;
  /** Fraction of service lost, in (0, 1]. */
  readonly loss: number;
  /** Hours after the assessment's start; 0 when already down. */
  readonly atHours?: number;
}

export interface CascadeOptions {
  /** Hours to look ahead; default 7 days. */
  readonly horizonHours?: number;
  /** Losses below this fraction are noise and do not spread; default 1%. */
  readonly minLoss?: number;
}

export const DEFAULT_HORIZON_HOURS = 7 * 24;
export const DEFAULT_MIN_LOSS = 0.01;

/** One step of an asset's loss over time: from `hours` on it has lost `loss` of its service. */
export interface LossStep {
  readonly hours: number;
  readonly loss: number;
}

/** A hop on the way the damage reached an asset, from a directly affected one. */
export interface PathHop {
  readonly node: number;
  readonly hours: number;
  readonly loss: number;
  /** What this asset needed from the previous hop; absent for the first. */
  readonly via?: DependencyKind;
}

/**
 * The cascade: for every asset the damage reaches within the horizon, its loss as a step
 * function of time, `L(t)` = the largest loss any chain of dependencies delivers by hour `t`.
 * A chain from a directly affected asset (loss x at hour t0) through dependencies
 * e1..ek delivers x·Π degradation(e) at t0 + Σ (backup(e) + timeToImpact(e)).
 *
 * Computed as a label-setting search in time order (Dijkstra with a dominance rule): a label
 * (asset, hour, loss) is kept only when it raises the asset's loss, so every asset keeps one
 * label per distinct increase, and a label that does not raise its asset's loss is dropped
 * before it spreads. Because everything only grows with the initial damage, more damage never
 * yields less impact, and neither the order of the inputs nor of the edges changes the answer.
 */
export function cascade(
  graph: GraphView,
  initial: readonly InitialDamage[],
  options: CascadeOptions = {},
): Cascade {
  const horizonHours = options.horizonHours ?? DEFAULT_HORIZON_HOURS;
  // The search runs in whole seconds, as the graph stores times: sums stay exact.
  const horizon = toSeconds(horizonHours);
  const minLoss = options.minLoss ?? DEFAULT_MIN_LOSS;
  const labels = new Labels();
  const heap = new LabelHeap(labels, graph.kind);
  const best = new Float64Array(graph.nodeCount);
  const first = new Int32Array(graph.nodeCount).fill(-1);
  const last = new Int32Array(graph.nodeCount).fill(-1);
  const accepted: number[] = [];

  for (const { node, loss, atHours = 0 } of initial) {
    if (node < 0 || node >= graph.nodeCount || graph.alive[node] !== 1) continue;
    const at = toSeconds(Math.max(0, atHours));
    if (!(loss >= minLoss) || !(at <= horizon)) continue;
    heap.push(labels.add(node, at, Math.min(1, loss), -1, -1));
  }

  const { offsets, dependents, timeToImpact, backup, degradation, alive } = graph;
  while (heap.size > 0) {
    const label = heap.pop();
    const node = labels.node[label]!;
    const loss = labels.loss[label]!;
    if (loss <= best[node]!) continue;
    best[node] = loss;
    labels.prevOfNode[label] = last[node]!;
    if (first[node] === -1) first[node] = label;
    last[node] = label;
    accepted.push(label);

    const seconds = labels.seconds[label]!;
    for (let e = offsets[node]!, end = offsets[node + 1]!; e < end; e++) {
      const dependent = dependents[e]!;
      if (alive[dependent] !== 1) continue;
      const at = seconds + backup[e]! + timeToImpact[e]!;
      const delivered = loss * degradation[e]!;
      if (at > horizon || delivered < minLoss || delivered <= best[dependent]!) continue;
      heap.push(labels.add(dependent, at, delivered, label, e));
    }
  }
  return new Cascade(graph, labels, first, last, accepted, horizonHours);
}

/** What `cascade` found; reads only, in node terms (the caller maps nodes to asset ids). */
export class Cascade {
  constructor(
    private readonly graph: GraphView,
    private readonly labels: Labels,
    private readonly firstLabel: Int32Array,
    private readonly lastLabel: Int32Array,
    /** Kept labels in time order. */
    private readonly accepted: readonly number[],
    readonly horizonHours: number,
  ) {}

  /** Every asset reached, in the order damage first reached it. */
  *impactedNodes(): Generator<number> {
    for (const label of this.accepted) {
      if (this.firstLabel[this.labels.node[label]!] === label) yield this.labels.node[label]!;
    }
  }

  get impactedCount(): number {
    let count = 0;
    for (const label of this.accepted) if (this.labels.prevOfNode[label] === -1) count++;
    return count;
  }

  /** When the asset first loses service (hours), or undefined when it never does in the horizon. */
  firstImpactHours(node: number): number | undefined {
    const label = this.firstLabel[node] ?? -1;
    return label === -1 ? undefined : this.labels.seconds[label]! / 3600;
  }

  /** The largest loss it reaches within the horizon (0 when unaffected). */
  maxLoss(node: number): number {
    const label = this.lastLabel[node] ?? -1;
    return label === -1 ? 0 : this.labels.loss[label]!;
  }

  /** When it reaches its largest loss. */
  maxLossHours(node: number): number | undefined {
    const label = this.lastLabel[node] ?? -1;
    return label === -1 ? undefined : this.labels.seconds[label]! / 3600;
  }

  /** Its loss over time, as increasing steps. */
  steps(node: number): LossStep[] {
    const steps: LossStep[] = [];
    for (let label = this.lastLabel[node] ?? -1; label !== -1; label = this.labels.prevOfNode[label]!) {
      steps.push({ hours: this.labels.seconds[label]! / 3600, loss: this.labels.loss[label]! });
    }
    return steps.reverse();
  }

  /** Its loss at hour `t`. */
  lossAt(node: number, hours: number): number {
    let loss = 0;
    for (const step of this.steps(node)) if (step.hours <= hours) loss = step.loss;
    return loss;
  }

  /**
   * The chain of dependencies that brought the asset to its largest loss, starting at a
   * directly affected asset: the critical path a responder would cut.
   */
  criticalPath(node: number): PathHop[] {
    const hops: PathHop[] = [];
    for (let label = this.lastLabel[node] ?? -1; label !== -1; label = this.labels.pred[label]!) {
      const edge = this.labels.edge[label]!;
      hops.push({
        node: this.labels.node[label]!,
        hours: this.labels.seconds[label]! / 3600,
        loss: this.labels.loss[label]!,
        ...(edge === -1 ? {} : { via: DEPENDENCY_KINDS[this.graph.kind[edge]!] }),
      });
    }
    return hops.reverse();
  }

  /** Every kept step of every asset, in time order: what summaries integrate over. */
  *allSteps(): Generator<{ node: number; hours: number; loss: number; previousLoss: number }> {
    for (const label of this.accepted) {
      const previous = this.labels.prevOfNode[label]!;
      yield {
        node: this.labels.node[label]!,
        hours: this.labels.seconds[label]! / 3600,
        loss: this.labels.loss[label]!,
        previousLoss: previous === -1 ? 0 : this.labels.loss[previous]!,
      };
    }
  }
}

/** Labels as growable columns, so the search allocates no objects per label. */
class Labels {
  length = 0;
  node = new Uint32Array(1024);
  /** Whole seconds from the start. */
  seconds = new Float64Array(1024);
  loss = new Float64Array(1024);
  /** The label it spread from, -1 for initial damage. */
  pred = new Int32Array(1024);
  /** The CSR edge it spread along, -1 for initial damage. */
  edge = new Int32Array(1024);
  /** For kept labels: the asset's previous kept label, -1 for its first. */
  prevOfNode = new Int32Array(1024);

  add(node: number, seconds: number, loss: number, pred: number, edge: number): number {
    if (this.length === this.node.length) this.#grow();
    const i = this.length++;
    this.node[i] = node;
    this.seconds[i] = seconds;
    this.loss[i] = loss;
    this.pred[i] = pred;
    this.edge[i] = edge;
    return i;
  }

  #grow(): void {
    const capacity = this.length * 2;
    const grow = <T extends Uint32Array | Int32Array | Float64Array>(a: T): T => {
      const next = new (a.constructor as new (n: number) => T)(capacity);
      next.set(a);
      return next;
    };
    this.node = grow(this.node);
    this.seconds = grow(this.seconds);
    this.loss = grow(this.loss);
    this.pred = grow(this.pred);
    this.edge = grow(this.edge);
    this.prevOfNode = grow(this.prevOfNode);
  }
}

/**
 * Binary min-heap of label ids, earliest first; at equal times the larger loss first (so the
 * smaller one is dominated on arrival), then by asset, predecessor asset and dependency kind,
 * which makes the kept labels and critical paths independent of the order edges were stored in.
 */
class LabelHeap {
  #items = new Int32Array(1024);
  size = 0;
  constructor(
    private readonly labels: Labels,
    private readonly kinds: Uint8Array,
  ) {}

  push(label: number): void {
    if (this.size === this.#items.length) {
      const next = new Int32Array(this.size * 2);
      next.set(this.#items);
      this.#items = next;
    }
    const items = this.#items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(label, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = label;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    const last = items[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.#before(items[child + 1]!, items[child]!)) child++;
      if (!this.#before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  #before(a: number, b: number): boolean {
    const l = this.labels;
    const ha = l.seconds[a]!;
    const hb = l.seconds[b]!;
    if (ha !== hb) return ha < hb;
    const la = l.loss[a]!;
    const lb = l.loss[b]!;
    if (la !== lb) return la > lb;
    const na = l.node[a]!;
    const nb = l.node[b]!;
    if (na !== nb) return na < nb;
    const pa = this.#predNode(a);
    const pb = this.#predNode(b);
    if (pa !== pb) return pa < pb;
    return this.#kind(a) < this.#kind(b);
  }

  /** The kind of dependency the label spread along: two edges between one pair differ in it. */
  #kind(label: number): number {
    const edge = this.labels.edge[label]!;
    return edge === -1 ? -1 : this.kinds[edge]!;
  }

  #predNode(label: number): number {
    const pred = this.labels.pred[label]!;
    return pred === -1 ? -1 : this.labels.node[pred]!;
  }
}
