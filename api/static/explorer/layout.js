// Two small layouts for the graph view, written here: no library.
//  - forceLayout: repulsion between every pair, springs along edges, the centre pinned;
//  - ringLayout: one ring per distance from the centre (a layered, radial layout).

export const KIND_ORDER = ["lab", "paper", "model", "technique", "slide"];

/** Force-directed layout: repulsion between every pair, springs along edges, the centre pinned. */
export function forceLayout(graph, width, height) {
  const wide = width >= height;
  const nodes = [...graph.nodes].sort((a, b) =>
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.slug.localeCompare(b.slug));
  const others = nodes.filter((node) => node.id !== graph.center.id);
  const place = new Map();
  place.set(graph.center.id, { x: 0, y: 0, fixed: true });
  others.forEach((node, i) => {
    const angle = (2 * Math.PI * i) / Math.max(others.length, 1);
    const ring = node.distance > 1 ? 2 : 1;
    place.set(node.id, { x: Math.cos(angle) * 160 * ring, y: Math.sin(angle) * 120 * ring, fixed: false });
  });
  const edges = graph.edges.filter((edge) => place.has(edge.source) && place.has(edge.target));
  const ideal = Math.max(110, Math.min(200, 900 / Math.sqrt(nodes.length)));
  let step = 30;
  for (let round = 0; round < 300; round += 1) {
    const force = new Map([...place.keys()].map((id) => [id, { x: 0, y: 0 }]));
    const points = [...place.entries()];
    for (let i = 0; i < points.length; i += 1) {
      for (let j = i + 1; j < points.length; j += 1) {
        const [a, pa] = points[i];
        const [b, pb] = points[j];
        let dx = pa.x - pb.x;
        let dy = pa.y - pb.y;
        const distance = Math.max(Math.hypot(dx, dy), 1);
        if (distance === 1) { dx = 1; dy = 0; }
        const push = (ideal * ideal) / distance;
        force.get(a).x += (dx / distance) * push;
        force.get(a).y += (dy / distance) * push;
        force.get(b).x -= (dx / distance) * push;
        force.get(b).y -= (dy / distance) * push;
      }
    }
    for (const edge of edges) {
      const pa = place.get(edge.source);
      const pb = place.get(edge.target);
      const dx = pa.x - pb.x;
      const dy = pa.y - pb.y;
      const distance = Math.max(Math.hypot(dx, dy), 1);
      const pull = (distance * distance) / ideal;
      force.get(edge.source).x -= (dx / distance) * pull;
      force.get(edge.source).y -= (dy / distance) * pull;
      force.get(edge.target).x += (dx / distance) * pull;
      force.get(edge.target).y += (dy / distance) * pull;
    }
    for (const [id, point] of place) {
      if (point.fixed) continue;
      const f = force.get(id);
      // Gravity towards the centre, stronger across the drawing's short side.
      f.x -= point.x * (wide ? 0.05 : 0.09);
      f.y -= point.y * (wide ? 0.08 : 0.04);
      const size = Math.max(Math.hypot(f.x, f.y), 1e-9);
      point.x += (f.x / size) * Math.min(size, step);
      point.y += (f.y / size) * Math.min(size, step);
    }
    step = Math.max(step * 0.985, 1);
  }
  // Fit into the drawing, leaving room for labels.
  const xs = [...place.values()].map((p) => p.x);
  const ys = [...place.values()].map((p) => p.y);
  const spanX = Math.max(Math.max(...xs) - Math.min(...xs), 1);
  const spanY = Math.max(Math.max(...ys) - Math.min(...ys), 1);
  const labelRoom = Math.min(190, width * 0.3);  // each side, for the labels
  // Each axis is stretched on its own, so a round layout fills a wide or a tall drawing.
  const scaleX = Math.min((width - 2 * labelRoom) / spanX, 2.4);
  const scaleY = Math.min((height - 80) / spanY, 2.4);
  const midX = (Math.max(...xs) + Math.min(...xs)) / 2;
  const midY = (Math.max(...ys) + Math.min(...ys)) / 2;
  for (const point of place.values()) {
    point.x = width / 2 + (point.x - midX) * scaleX;
    point.y = height / 2 + (point.y - midY) * scaleY;
  }
  return { nodes, edges, place };
}

/** Layered layout for wider neighbourhoods: one ring per distance from the centre, each node of
 * the outer ring placed near the inner-ring nodes it links to. */
export function ringLayout(graph, width, height) {
  const nodes = [...graph.nodes].sort((a, b) =>
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.slug.localeCompare(b.slug));
  const edges = graph.edges.filter((edge) =>
    nodes.some((n) => n.id === edge.source) && nodes.some((n) => n.id === edge.target));
  const labelRoom = Math.min(190, width * 0.3);
  const rings = Math.max(...nodes.map((node) => node.distance || 1), 1);
  const radiusX = (ring) => ((width / 2 - labelRoom) * ring) / rings;
  const radiusY = (ring) => ((height / 2 - 40) * ring) / rings;
  const angle = new Map([[graph.center.id, 0]]);
  const neighbours = new Map(nodes.map((node) => [node.id, []]));
  for (const edge of edges) {
    neighbours.get(edge.source).push(edge.target);
    neighbours.get(edge.target).push(edge.source);
  }
  for (let ring = 1; ring <= rings; ring += 1) {
    const members = nodes.filter((node) => node.id !== graph.center.id && (node.distance || 1) === ring);
    const wanted = members.map((node, i) => {
      const inner = neighbours.get(node.id).filter((id) => angle.has(id) && id !== graph.center.id);
      if (ring === 1 || !inner.length) return [node, (2 * Math.PI * i) / members.length];
      const x = inner.reduce((sum, id) => sum + Math.cos(angle.get(id)), 0);
      const y = inner.reduce((sum, id) => sum + Math.sin(angle.get(id)), 0);
      return [node, Math.atan2(y, x)];
    }).sort((a, b) => a[1] - b[1]);
    const start = wanted.length ? wanted[0][1] : 0;
    wanted.forEach(([node], i) => angle.set(node.id, start + (2 * Math.PI * i) / wanted.length));
  }
  const place = new Map();
  for (const node of nodes) {
    const ring = node.id === graph.center.id ? 0 : node.distance || 1;
    const a = angle.get(node.id) ?? 0;
    place.set(node.id, {
      x: width / 2 + Math.cos(a) * radiusX(ring),
      y: height / 2 + Math.sin(a) * radiusY(ring),
    });
  }
  return { nodes, edges, place };
}
