/** Dependency graph of stages: ordering, cycles, and the stages upstream or downstream of one. */

/** The part of a stage the graph needs. */
export interface GraphNode {
  name: string;
  dependencies: string[];
}

/**
 * Orders stages so that each comes after its dependencies. Among stages that are ready at the same
 * time, the one earlier in the input comes first. Expects an acyclic graph (see findCycle).
 */
export function orderStages<T extends GraphNode>(stages: T[]): T[] {
  const ordered: T[] = [];
  const placed = new Set<string>();
  const remaining = [...stages];

  while (remaining.length > 0) {
    const index = remaining.findIndex((stage) =>
      stage.dependencies.every((dependency) => placed.has(dependency)),
    );
    if (index < 0)
      throw new Error(`stages ${remaining.map((stage) => stage.name).join(', ')} form a cycle`);
    const [next] = remaining.splice(index, 1);
    ordered.push(next);
    placed.add(next.name);
  }
  return ordered;
}

/**
 * Finds a dependency cycle and returns it as a path that starts and ends at the same stage, such
 * as ['train', 'evaluate', 'train'], or undefined when the graph is acyclic. Dependencies on
 * unknown stages are ignored here.
 */
export function findCycle(stages: GraphNode[]): string[] | undefined {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];

  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    trail.push(name);
    for (const dependency of byName.get(name)?.dependencies ?? []) {
      if (!byName.has(dependency)) continue;
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(name, 'done');
    return undefined;
  };

  for (const stage of stages) {
    const cycle = visit(stage.name);
    // The walk follows dependencies, so reverse it to read in execution order.
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** Names of every stage that `name` depends on, directly or not. */
export function upstreamOf(stages: GraphNode[], name: string): Set<string> {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const found = new Set<string>();
  const pending = [...(byName.get(name)?.dependencies ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (found.has(next)) continue;
    found.add(next);
    pending.push(...(byName.get(next)?.dependencies ?? []));
  }
  return found;
}

/** Names of every stage that depends on `name`, directly or not. */
export function downstreamOf(stages: GraphNode[], name: string): Set<string> {
  return new Set(
    stages.filter((stage) => upstreamOf(stages, stage.name).has(name)).map((stage) => stage.name),
  );
}
