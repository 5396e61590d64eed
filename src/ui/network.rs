//! The left panel's Network section: a small network on 2D points (dataset, architecture),
//! its loss on a plane as the surface (`net:` slices), networks trained in full as balls
//! (`SimCommand::TrainNetworks`), and the decision boundary of the network being looked at.

use super::panels::BallData;
use crate::sim::{NetRuns, Roster, SimCommand};
use bevy::prelude::*;
use bevy_egui::egui;
use egui::{Color32, RichText};
use optiscape_core::landscape::Surface;
use optiscape_core::net::mlp::{Scratch, predict};
use optiscape_core::net::slice::{Plane, Slice, SliceSpec};
use optiscape_core::net::{DATASETS, Labels, live::trainable};

/// The section's fields between frames.
#[derive(Reflect, Clone, Debug, PartialEq)]
pub struct NetFields {
    pub data: String,
    pub noise: f64,
    pub points: usize,
    pub layers: String,
    pub activation: String,
    pub weight_decay: f64,
    /// The plane through three trained minima (else two random directions).
    pub minima: bool,
    pub runs: usize,
    pub per_frame: u64,
    /// The training the runs and per-frame fields last followed (a scenario, a link or the
    /// command line starts networks with their own).
    pub followed: Option<(usize, u64)>,
    /// Why the last slice asked for was refused.
    pub error: Option<String>,
}

impl Default for NetFields {
    fn default() -> Self {
        let mut f = Self {
            data: String::new(),
            noise: 0.0,
            points: 0,
            layers: String::new(),
            activation: String::new(),
            weight_decay: 0.0,
            minima: false,
            runs: NetRuns::default().runs,
            per_frame: NetRuns::default().updates_per_frame,
            followed: None,
            error: None,
        };
        if let Ok(spec) = SliceSpec::named("moons") {
            f.follow(&spec);
        }
        f
    }
}

impl NetFields {
    /// The fields of a slice that arrived from elsewhere (command line, scenario, link).
    pub fn follow(&mut self, spec: &SliceSpec) {
        self.data = spec.data.name.clone();
        self.noise = spec.data.noise;
        self.points = spec.data.points;
        self.layers = spec.net.sizes_text();
        self.activation = spec.net.activation.name().to_string();
        self.weight_decay = spec.net.weight_decay;
        self.minima = spec.plane == Plane::Minima;
    }

    /// The runs and per-frame fields of a training that started elsewhere (a scenario, a
    /// link, the command line), once per training: what is typed afterwards stays.
    pub fn follow_training(&mut self, net_runs: &NetRuns) {
        let training = (net_runs.runs, net_runs.updates_per_frame);
        if net_runs.active && self.followed != Some(training) {
            (self.runs, self.per_frame) = training;
            self.followed = Some(training);
        }
    }

    /// The slice the fields spell, as `net:` takes it (checked by `SliceSpec::parse`).
    pub fn text(&self) -> String {
        let mut s = format!(
            "{},noise={:?},points={},layers={},activation={},weight-decay={:?}",
            self.data,
            self.noise,
            self.points,
            self.layers.trim(),
            self.activation,
            self.weight_decay
        );
        if self.minima {
            s.push_str(",plane=minima");
        }
        s
    }
}

/// The decision boundary's picture and what it was drawn for.
#[derive(Default)]
pub(super) struct Boundary {
    key: Option<(String, Option<Entity>, u64)>,
    drawn_at: f64,
    texture: Option<egui::TextureHandle>,
    caption: String,
}

/// Pixels of the decision boundary picture.
pub const BOUNDARY_PIXELS: usize = 128;

/// Class colors of the picture (points in full, regions lightened).
const CLASS_COLORS: [[u8; 3]; 6] = [
    [47, 110, 220],
    [235, 120, 30],
    [40, 160, 90],
    [200, 55, 150],
    [120, 90, 200],
    [110, 110, 110],
];

/// The picture of what the network with parameters `theta` says over the data's box (a
/// square around every training and test point, 8% margin): each class's region in its
/// color, lighter where the network is less sure (values: dark to light), the training
/// points on top. Row 0 is the top (largest `x2`).
pub fn boundary_image(slice: &Slice, theta: &[f64], n: usize) -> egui::ColorImage {
    let pts = slice.data.train.x.iter().chain(&slice.data.test.x);
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in pts {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let c = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0 * 1.08).max(1e-9);
    let to_px = |p: [f64; 2]| -> (f64, f64) {
        (
            (p[0] - (c[0] - half)) / (2.0 * half) * n as f64,
            ((c[1] + half) - p[1]) / (2.0 * half) * n as f64,
        )
    };
    let net = &slice.spec.net;
    let mut s = Scratch::<f64>::new(net);
    let labels = slice.data.labels;
    let mut img = egui::ColorImage::filled([n, n], Color32::WHITE);
    let mut values = Vec::with_capacity(n * n);
    for j in 0..n {
        for i in 0..n {
            let x = [
                c[0] - half + (i as f64 + 0.5) / n as f64 * 2.0 * half,
                c[1] + half - (j as f64 + 0.5) / n as f64 * 2.0 * half,
            ];
            values.push(predict(net, &slice.layers, labels, x, theta, &mut s));
        }
    }
    let (vmin, vmax) = values
        .iter()
        .filter_map(|v| v.first().copied().filter(|x| x.is_finite()))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    for (px, v) in img.pixels.iter_mut().zip(&values) {
        let rgb = match labels {
            Labels::Values => {
                let t = ((v[0] - vmin) / (vmax - vmin).max(1e-12)).clamp(0.0, 1.0);
                let g = (40.0 + 200.0 * t) as u8;
                [g, g, g]
            }
            Labels::Classes(_) => {
                let mut acc = [0.0f64; 3];
                for (k, p) in v.iter().enumerate() {
                    let col = CLASS_COLORS[k.min(CLASS_COLORS.len() - 1)];
                    for ch in 0..3 {
                        acc[ch] += p.clamp(0.0, 1.0) * f64::from(col[ch]);
                    }
                }
                // Lightened so that the points stand out.
                acc.map(|a| (0.45 * a + 0.55 * 255.0).round().clamp(0.0, 255.0) as u8)
            }
        };
        *px = Color32::from_rgb(rgb[0], rgb[1], rgb[2]);
    }
    for (p, y) in slice.data.train.x.iter().zip(&slice.data.train.y) {
        let col = match labels {
            Labels::Values => [220, 60, 60],
            Labels::Classes(_) => CLASS_COLORS[(*y as usize).min(CLASS_COLORS.len() - 1)],
        };
        let (x, yy) = to_px(*p);
        let (x, yy) = (x.floor() as i64, yy.floor() as i64);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (u, v) = (x + dx, yy + dy);
                if u >= 0 && v >= 0 && (u as usize) < n && (v as usize) < n {
                    let edge = dx != 0 && dy != 0;
                    let c = if edge {
                        col.map(|v| (f64::from(v) * 0.55) as u8)
                    } else {
                        col
                    };
                    img.pixels[v as usize * n + u as usize] = Color32::from_rgb(c[0], c[1], c[2]);
                }
            }
        }
    }
    img
}

#[allow(clippy::too_many_arguments)]
pub(super) fn network_section(
    ui: &mut egui::Ui,
    fields: &mut NetFields,
    surface: &Surface,
    roster: &Roster,
    net_runs: &NetRuns,
    balls: &Query<BallData>,
    selected: Option<Entity>,
    boundary: &mut Boundary,
    out: &mut Vec<SimCommand>,
) {
    let slice = surface.as_net().map(|n| n.slice());
    fields.follow_training(net_runs);
    egui::CollapsingHeader::new("Network")
        .default_open(slice.is_some())
        .show(ui, |ui| {
            ui.label(
                RichText::new(
                    "A small network on 2D points. Its loss on a plane through a trained minimum is the surface; balls can be whole networks in training.",
                )
                .small(),
            );
            egui::Grid::new("network-fields").show(ui, |ui| {
                ui.label("dataset");
                egui::ComboBox::from_id_salt("net-data")
                    .selected_text(fields.data.clone())
                    .show_ui(ui, |ui| {
                        for d in DATASETS {
                            ui.selectable_value(&mut fields.data, d.to_string(), d);
                        }
                    });
                ui.end_row();
                ui.label("noise");
                ui.add(egui::DragValue::new(&mut fields.noise).range(0.0..=2.0).speed(0.01));
                ui.end_row();
                ui.label("points");
                ui.add(egui::DragValue::new(&mut fields.points).range(10..=2000));
                ui.end_row();
                ui.label("layers")
                    .on_hover_text("sizes from input (2) to output, e.g. 2-16-16-1");
                ui.add(egui::TextEdit::singleline(&mut fields.layers).desired_width(110.0));
                ui.end_row();
                ui.label("activation");
                egui::ComboBox::from_id_salt("net-activation")
                    .selected_text(fields.activation.clone())
                    .show_ui(ui, |ui| {
                        for a in ["tanh", "relu", "gelu"] {
                            ui.selectable_value(&mut fields.activation, a.to_string(), a);
                        }
                    });
                ui.end_row();
                ui.label("weight decay");
                ui.add(
                    egui::DragValue::new(&mut fields.weight_decay)
                        .range(0.0..=1.0)
                        .speed(1e-4),
                );
                ui.end_row();
                ui.label("plane");
                ui.horizontal(|ui| {
                    ui.radio_value(&mut fields.minima, false, "random")
                        .on_hover_text("through a trained minimum, along two filter-normalized random directions");
                    ui.radio_value(&mut fields.minima, true, "3 minima")
                        .on_hover_text("through three minima trained from three initializations");
                });
                ui.end_row();
            });
            let text = fields.text();
            let current = slice.map(|s| s.spec.clone());
            let same = current.as_ref().is_some_and(|c| SliceSpec::parse(&text).ok().as_ref() == Some(c));
            let label = if current.is_some() { "Rebuild slice" } else { "Build slice" };
            if ui
                .add_enabled(!same, egui::Button::new(label))
                .on_hover_text("trains the slice's minimum (2000 Adam updates), then shows its loss on the plane")
                .clicked()
            {
                match Surface::net(&text) {
                    Ok(s) => {
                        fields.error = None;
                        out.push(SimCommand::SetSurface(s));
                    }
                    Err(e) => fields.error = Some(e),
                }
            }
            if let Some(e) = &fields.error {
                ui.colored_label(Color32::LIGHT_RED, e);
            }
            let Some(slice) = slice else {
                return;
            };
            ui.separator();
            ui.label(
                RichText::new(format!(
                    "{} parameters; {} training and {} test points",
                    slice.center.len(),
                    slice.data.train.len(),
                    slice.data.test.len()
                ))
                .small(),
            );
            egui::Grid::new("network-train").show(ui, |ui| {
                ui.label("runs per method")
                    .on_hover_text("initializations, the same for every method (run i of the seed, as optiscape train numbers them)");
                ui.add(egui::DragValue::new(&mut fields.runs).range(1..=crate::sim::network::MAX_NET_RUNS));
                ui.end_row();
                ui.label("updates per frame");
                ui.add(
                    egui::DragValue::new(&mut fields.per_frame)
                        .range(1..=crate::sim::network::MAX_UPDATES_PER_FRAME),
                );
                ui.end_row();
            });
            let (ok, refused): (Vec<_>, Vec<_>) = roster
                .enabled()
                .map(|e| (e.label, trainable(&e.template)))
                .partition(|(_, r)| r.is_ok());
            let button = egui::Button::new(if net_runs.active {
                "Train again"
            } else {
                "Train networks"
            });
            if ui
                .add_enabled(!ok.is_empty() && surface.placement.is_identity(), button)
                .on_hover_text("every enabled update rule trains the whole network from each initialization; the balls show where the networks project on the plane, at their real loss")
                .clicked()
            {
                out.push(SimCommand::TrainNetworks {
                    runs: fields.runs,
                    updates_per_frame: fields.per_frame,
                });
            }
            if ok.is_empty() {
                ui.label(RichText::new("enable an update rule under Methods to train").small());
            }
            if !refused.is_empty() {
                let names: Vec<&str> = refused.iter().map(|(l, _)| *l).collect();
                ui.label(
                    RichText::new(format!(
                        "not trained: {} (they ask for evaluations, or use clip or noise)",
                        names.join(", ")
                    ))
                    .small(),
                )
                .on_hover_text(
                    refused
                        .iter()
                        .filter_map(|(_, r)| r.as_ref().err().cloned())
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            ui.separator();
            boundary_view(ui, slice, &surface.spec(), balls, selected, boundary);
        });
}

/// The decision boundary of the selected network ball, else the first one, else the slice's
/// trained minimum; redrawn at most five times a second while it trains.
fn boundary_view(
    ui: &mut egui::Ui,
    slice: &Slice,
    surface_text: &str,
    balls: &Query<BallData>,
    selected: Option<Entity>,
    boundary: &mut Boundary,
) {
    let chosen = selected
        .and_then(|e| balls.get(e).ok())
        .filter(|b| b.5.is_some())
        .or_else(|| {
            balls
                .iter()
                .filter(|b| b.5.is_some())
                .min_by_key(|b| b.1.serial)
        });
    let (entity, updates, caption, theta) = match chosen {
        Some(b) => {
            let nb = b.5.expect("filtered");
            let fit = nb.fit.as_ref();
            let updates = fit.map_or(0, |f| f.state().updates);
            (
                Some(b.0),
                updates,
                format!(
                    "{} run {} after {} updates: train accuracy {:.3}, test {:.3}",
                    b.1.method, nb.run, updates, nb.train_accuracy, nb.test_accuracy
                ),
                fit.map(|f| f.params()),
            )
        }
        None => (
            None,
            0,
            "the slice's trained minimum (the centre of the plane)".to_string(),
            None,
        ),
    };
    let key = (surface_text.to_string(), entity, updates);
    let now = ui.input(|i| i.time);
    let stale = boundary.key.as_ref() != Some(&key);
    let same_ball = boundary
        .key
        .as_ref()
        .is_some_and(|k| k.0 == key.0 && k.1 == key.1);
    if stale && (!same_ball || now - boundary.drawn_at >= 0.2 || boundary.texture.is_none()) {
        let theta = theta.unwrap_or_else(|| slice.center.clone());
        let img = boundary_image(slice, &theta, BOUNDARY_PIXELS);
        match &mut boundary.texture {
            Some(t) => t.set(img, egui::TextureOptions::NEAREST),
            None => {
                boundary.texture = Some(ui.ctx().load_texture(
                    "decision-boundary",
                    img,
                    egui::TextureOptions::NEAREST,
                ));
            }
        }
        boundary.key = Some(key);
        boundary.drawn_at = now;
        boundary.caption = caption;
    }
    ui.label(RichText::new("Decision boundary").strong());
    if let Some(t) = &boundary.texture {
        ui.image((t.id(), egui::vec2(180.0, 180.0)));
    }
    ui.label(RichText::new(&boundary.caption).small());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_spell_the_slice_they_show() {
        let spec = SliceSpec::parse("circles,noise=0.05,layers=2-8-1,activation=relu,plane=minima")
            .expect("a slice");
        let mut f = NetFields::default();
        f.follow(&spec);
        assert_eq!(SliceSpec::parse(&f.text()).expect("parses"), spec);
        assert_eq!(
            SliceSpec::parse(&NetFields::default().text()).expect("parses"),
            SliceSpec::named("moons").expect("moons")
        );
    }

    #[test]
    fn the_runs_fields_follow_a_training_started_elsewhere_once() {
        let mut f = NetFields::default();
        let idle = NetRuns::default();
        f.follow_training(&idle);
        assert_eq!((f.runs, f.per_frame), (idle.runs, idle.updates_per_frame));
        // A scenario's networks: the fields show them.
        let loaded = NetRuns {
            active: true,
            runs: 7,
            updates_per_frame: 3,
        };
        f.follow_training(&loaded);
        assert_eq!((f.runs, f.per_frame), (7, 3));
        // What is typed afterwards stays while the same training runs.
        f.runs = 12;
        f.follow_training(&loaded);
        assert_eq!((f.runs, f.per_frame), (12, 3));
    }

    #[test]
    fn the_boundary_separates_the_classes_of_a_trained_network() {
        let s = Surface::net("moons").expect("moons");
        let slice = s.as_net().expect("net").slice();
        let img = boundary_image(slice, &slice.center, 64);
        assert_eq!(img.size, [64, 64]);
        // The trained network classifies most points right: sampled under each training point,
        // before the points are drawn, the region's color leans to the point's class.
        let blue = img.pixels.iter().filter(|p| p.b() > p.r()).count();
        let orange = img.pixels.iter().filter(|p| p.r() > p.b()).count();
        assert!(
            blue > 64 * 64 / 5 && orange > 64 * 64 / 5,
            "{blue} {orange}"
        );
    }
}
