//! The surface as meshes: a grid built from `Surface::height`, normals from the exact gradient,
//! vertex colors from a colormap of height; contour lines (marching squares) and a wireframe
//! as line meshes. Pure functions of the surface and the display settings, so they can be
//! benchmarked and tested without a window.

use super::colormap::Colormap;
use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use glam::DVec2;
use optiscape_core::landscape::{Domain, Surface};
use rayon::prelude::*;

/// Side length of the surface in world units (the longer domain side maps to this).
pub const WORLD_SIZE: f64 = 10.0;
/// World height of the displayed height range at exaggeration 1.
pub const WORLD_HEIGHT: f64 = 2.5;

/// How surface coordinates map to the world: x to +X, y to -Z, height to +Y.
#[derive(Resource, Reflect, Clone, Copy, Debug, PartialEq)]
#[reflect(Resource)]
pub struct WorldMap {
    pub cx: f64,
    pub cy: f64,
    /// World units per surface unit.
    pub scale: f64,
    /// The displayed height range: `lo` sits at Y = 0; heights above `hi` are drawn at `hi`.
    pub lo: f64,
    pub hi: f64,
    /// World units per height unit.
    pub height_scale: f64,
    /// Share of the grid where the surface is not finite (a typed formula's `log` of a negative
    /// number...); those vertices are drawn flat at the top in `NONFINITE_COLOR`.
    pub nonfinite: f64,
}

/// The color that marks where a surface is not finite (magenta, in no colormap).
pub const NONFINITE_COLOR: [f32; 4] = [0.75, 0.0, 0.6, 1.0];

impl Default for WorldMap {
    fn default() -> Self {
        Self {
            cx: 0.0,
            cy: 0.0,
            scale: 1.0,
            lo: 0.0,
            hi: 1.0,
            height_scale: 1.0,
            nonfinite: 0.0,
        }
    }
}

impl WorldMap {
    pub fn to_world(&self, p: DVec2, h: f64) -> Vec3 {
        let h = if h.is_finite() {
            h.clamp(self.lo, self.hi)
        } else {
            self.hi
        };
        Vec3::new(
            ((p.x - self.cx) * self.scale) as f32,
            ((h - self.lo) * self.height_scale) as f32,
            (-(p.y - self.cy) * self.scale) as f32,
        )
    }

    pub fn to_surface(&self, v: Vec3) -> DVec2 {
        DVec2::new(
            self.cx + v.x as f64 / self.scale,
            self.cy - v.z as f64 / self.scale,
        )
    }

    /// The world-space normal of the displayed surface at a point with gradient `g`.
    pub fn normal(&self, g: DVec2, h: f64) -> Vec3 {
        if h >= self.hi || h.is_nan() || !g.is_finite() {
            return Vec3::Y;
        }
        let k = self.height_scale / self.scale;
        Vec3::new((-k * g.x) as f32, 1.0, (k * g.y) as f32).normalize_or(Vec3::Y)
    }

    /// Normalized height for the colormap.
    pub fn unit_height(&self, h: f64) -> f32 {
        ((h - self.lo) / (self.hi - self.lo)) as f32
    }
}

/// What the mesh builder needs from the display settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeshOptions {
    pub resolution: u32,
    pub exaggeration: f32,
    pub colormap: Colormap,
    pub contours: bool,
    pub contour_levels: u32,
    pub wireframe: bool,
}

/// The sampled surface: heights and exact gradients on an `n x n` grid of the domain (edges
/// included).
pub struct HeightGrid {
    pub n: usize,
    pub domain: Domain,
    pub heights: Vec<f64>,
    pub gradients: Vec<DVec2>,
}

impl HeightGrid {
    /// One `height_and_gradient` per vertex, rows in parallel.
    pub fn sample(surface: &Surface, n: usize) -> Self {
        let n = n.clamp(2, 1025);
        let d = surface.domain;
        let mut heights = vec![0.0; n * n];
        let mut gradients = vec![DVec2::ZERO; n * n];
        heights
            .par_chunks_mut(n)
            .zip(gradients.par_chunks_mut(n))
            .enumerate()
            .for_each(|(j, (hs, gs))| {
                for (i, (h, g)) in hs.iter_mut().zip(gs).enumerate() {
                    (*h, *g) = surface.height_and_gradient(Self::point_of(d, n, i, j));
                }
            });
        Self {
            n,
            domain: d,
            heights,
            gradients,
        }
    }

    fn point_of(d: Domain, n: usize, i: usize, j: usize) -> DVec2 {
        let f = 1.0 / (n - 1) as f64;
        d.lerp(i as f64 * f, j as f64 * f)
    }

    pub fn point(&self, i: usize, j: usize) -> DVec2 {
        Self::point_of(self.domain, self.n, i, j)
    }

    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.heights[j * self.n + i]
    }

    /// The displayed height range: min to max, or to the 99th percentile when a few extreme
    /// values would flatten everything else (Goldstein-Price spans six orders of magnitude).
    pub fn display_range(&self) -> (f64, f64) {
        let mut finite: Vec<f64> = self
            .heights
            .iter()
            .copied()
            .filter(|h| h.is_finite())
            .collect();
        if finite.is_empty() {
            return (0.0, 1.0);
        }
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let q = |f: &mut Vec<f64>, p: f64| {
            let k = ((f.len() - 1) as f64 * p) as usize;
            *f.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
        };
        let q95 = q(&mut finite, 0.95);
        let hi = if hi - lo > 4.0 * (q95 - lo) {
            q(&mut finite, 0.99)
        } else {
            hi
        };
        if hi - lo > 1e-12 {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        }
    }
}

/// The world map for a surface's grid and the display settings.
pub fn world_map(grid: &HeightGrid, exaggeration: f32) -> WorldMap {
    let d = grid.domain;
    let (lo, hi) = grid.display_range();
    let c = d.center();
    WorldMap {
        cx: c.x,
        cy: c.y,
        scale: WORLD_SIZE / d.extent(),
        lo,
        hi,
        height_scale: WORLD_HEIGHT * exaggeration.max(0.01) as f64 / (hi - lo),
        nonfinite: grid.heights.iter().filter(|h| !h.is_finite()).count() as f64
            / grid.heights.len().max(1) as f64,
    }
}

/// The surface mesh: positions, exact normals, colormap vertex colors, two triangles per cell
/// (counter-clockwise seen from above).
pub fn surface_mesh(grid: &HeightGrid, map: &WorldMap, cmap: Colormap) -> Mesh {
    let n = grid.n;
    let last = (n - 1) as f32;
    let mut positions = vec![[0.0f32; 3]; n * n];
    let mut normals = vec![[0.0f32; 3]; n * n];
    let mut colors = vec![[0.0f32; 4]; n * n];
    let mut uvs = vec![[0.0f32; 2]; n * n];
    // Rows in parallel, written in place.
    positions
        .par_chunks_mut(n)
        .zip(normals.par_chunks_mut(n))
        .zip(colors.par_chunks_mut(n))
        .zip(uvs.par_chunks_mut(n))
        .enumerate()
        .for_each(|(j, (((pos, nor), col), uv))| {
            for i in 0..n {
                let p = grid.point(i, j);
                let h = grid.at(i, j);
                pos[i] = map.to_world(p, h).to_array();
                nor[i] = map.normal(grid.gradients[j * n + i], h).to_array();
                col[i] = if h.is_finite() {
                    cmap.linear(map.unit_height(h))
                } else {
                    NONFINITE_COLOR
                };
                // Texture row 0 is the top of the domain (y1).
                uv[i] = [i as f32 / last, 1.0 - j as f32 / last];
            }
        });
    let mut indices = Vec::with_capacity((n - 1) * (n - 1) * 6);
    for j in 0..n - 1 {
        for i in 0..n - 1 {
            let a = (j * n + i) as u32;
            let b = a + 1;
            let d = a + n as u32;
            let c = d + 1;
            indices.extend_from_slice(&[a, b, c, a, c, d]);
        }
    }
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::default(),
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
    .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colors)
    .with_inserted_attribute(Mesh::ATTRIBUTE_UV_0, uvs)
    .with_inserted_indices(Indices::U32(indices))
}

/// Lift of line meshes above the surface, in world units, so they are not hidden in it.
const LIFT: f32 = 0.012;

fn line_mesh(points: Vec<[f32; 3]>) -> Mesh {
    Mesh::new(PrimitiveTopology::LineList, RenderAssetUsages::default())
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, points)
}

/// Contour lines at `levels` evenly spaced heights inside the displayed range (marching
/// squares on the grid; each cell only visits the levels between its lowest and highest corner).
pub fn contour_mesh(grid: &HeightGrid, map: &WorldMap, levels: u32) -> Mesh {
    let n = grid.n;
    let levels = levels.clamp(1, 200) as usize;
    let spacing = (map.hi - map.lo) / (levels + 1) as f64;
    let level_of = |l: usize| map.lo + spacing * l as f64;
    // Rows in parallel, joined in order (the same mesh whatever the number of threads).
    let rows: Vec<Vec<[f32; 3]>> = (0..n - 1)
        .into_par_iter()
        .map(|j| {
            let mut pts: Vec<[f32; 3]> = Vec::new();
            for i in 0..n - 1 {
                let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
                let hs = corners.map(|(a, b)| grid.at(a, b));
                if hs.iter().any(|h| !h.is_finite()) {
                    continue;
                }
                let lo = hs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = hs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let first = (((lo - map.lo) / spacing).ceil().max(1.0)) as usize;
                let last = (((hi - map.lo) / spacing).floor() as usize).min(levels);
                for l in first..=last {
                    let level = level_of(l);
                    let y = map.to_world(DVec2::ZERO, level).y + LIFT;
                    let mut crossings = [DVec2::ZERO; 4];
                    let mut count = 0;
                    for e in 0..4 {
                        let (h0, h1) = (hs[e], hs[(e + 1) % 4]);
                        if (h0 < level) != (h1 < level) {
                            let t = (level - h0) / (h1 - h0);
                            let (a, b) = (corners[e], corners[(e + 1) % 4]);
                            let p0 = grid.point(a.0, a.1);
                            let p1 = grid.point(b.0, b.1);
                            crossings[count] = p0 + (p1 - p0) * t;
                            count += 1;
                        }
                    }
                    for p in &crossings[..count - count % 2] {
                        let w = map.to_world(*p, level);
                        pts.push([w.x, y, w.z]);
                    }
                }
            }
            pts
        })
        .collect();
    line_mesh(rows.concat())
}

/// Grid lines every few samples (about 40 per side) following the surface.
pub fn wireframe_mesh(grid: &HeightGrid, map: &WorldMap) -> Mesh {
    let n = grid.n;
    let every = (n / 40).max(1);
    let mut pts: Vec<[f32; 3]> = Vec::new();
    let vertex = |i: usize, j: usize| {
        let w = map.to_world(grid.point(i, j), grid.at(i, j));
        [w.x, w.y + LIFT, w.z]
    };
    for j in (0..n).step_by(every) {
        for i in 0..n - 1 {
            pts.push(vertex(i, j));
            pts.push(vertex(i + 1, j));
        }
    }
    for i in (0..n).step_by(every) {
        for j in 0..n - 1 {
            pts.push(vertex(i, j));
            pts.push(vertex(i, j + 1));
        }
    }
    line_mesh(pts)
}

/// The meshes of one surface: contours and wireframe only when asked for.
pub struct SurfaceMeshes {
    pub map: WorldMap,
    pub surface: Mesh,
    pub contours: Option<Mesh>,
    pub wireframe: Option<Mesh>,
}

/// Builds everything for one surface and set of options.
pub fn build(surface: &Surface, opts: &MeshOptions) -> SurfaceMeshes {
    let grid = HeightGrid::sample(surface, opts.resolution.clamp(32, 1024) as usize);
    let map = world_map(&grid, opts.exaggeration);
    SurfaceMeshes {
        surface: surface_mesh(&grid, &map, opts.colormap),
        contours: opts
            .contours
            .then(|| contour_mesh(&grid, &map, opts.contour_levels)),
        wireframe: opts.wireframe.then(|| wireframe_mesh(&grid, &map)),
        map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mesh_marks_where_a_formula_is_not_finite() {
        let mut s = Surface::formula("log(x) + y^2", None).expect("parses");
        s.domain = Domain::new(-1.0, 1.0, -1.0, 1.0);
        let grid = HeightGrid::sample(&s, 101);
        let map = world_map(&grid, 1.0);
        assert!(
            (0.45..=0.55).contains(&map.nonfinite),
            "about half the grid is x <= 0: {}",
            map.nonfinite
        );
        assert!(map.lo.is_finite() && map.hi.is_finite());
    }
}
