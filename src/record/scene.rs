//! The recording's scene on top of the sandbox's: the camera aimed at the offscreen image,
//! and the legend, title and frame counter drawn into it.

use super::Recorder;
use super::frames::FrameCapture;
use crate::sim::Roster;
use crate::view::MainCamera;
use crate::view::backdrop::{Backdrop, Parts, backdrop_camera};
use bevy::camera::CameraOutputMode;
use bevy::camera::RenderTarget;
use bevy::prelude::*;

/// The frame counter text.
#[derive(Component)]
pub(super) struct FrameCounter;

/// Points the sandbox's camera at the offscreen image, and sets it up for reading its pictures
/// back from its render texture and, with a still camera, for the cached backdrop.
pub(super) fn aim_at_image(
    mut commands: Commands,
    rec: Res<Recorder>,
    mut cameras: Query<(Entity, &mut Camera, &mut Camera3d), With<MainCamera>>,
) {
    for (cam, mut camera, mut camera3d) in &mut cameras {
        // Pictures are read from the camera's own texture: no blit to the image. The frame is
        // cleared, or started from the backdrop, by `view::backdrop`, not by the camera (Bevy
        // renders a camera with its output off only if it does not clear).
        camera.output_mode = CameraOutputMode::Skip;
        let usages = backdrop_camera(&mut camera, &mut camera3d);
        commands.entity(cam).insert((
            RenderTarget::Image(rec.target.clone().into()),
            usages,
            Backdrop::Off,
            Parts::All.layers(),
            FrameCapture::default(),
        ));
    }
}

/// The legend (method names in their colors), the title and the frame counter, drawn by
/// bevy_ui into the same image.
pub(super) fn overlay(
    mut commands: Commands,
    rec: Res<Recorder>,
    cameras: Query<Entity, With<MainCamera>>,
) {
    let Some(cam) = cameras.iter().next() else {
        return;
    };
    let scale = (rec.plan.size.1 as f32 / 600.0).clamp(0.5, 3.0);
    let font = |size: f32| TextFont {
        font_size: FontSize::Px(size * scale),
        ..default()
    };
    let defaults = Roster::default();
    let methods: Vec<(String, Color)> = rec
        .plan
        .scenario
        .methods()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.enabled)
        .map(|m| {
            let entry = defaults.get(&m.optimizer.id);
            let color = match m.color {
                Some([r, g, b]) => Color::srgb(r, g, b),
                None => entry.map(|e| e.color).unwrap_or(Color::WHITE),
            };
            let label = entry.map(|e| e.label).unwrap_or(m.optimizer.id.as_str());
            (label.to_string(), color)
        })
        .collect();
    let title = rec.plan.title.clone();
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                left: px(10.0 * scale),
                top: px(10.0 * scale),
                flex_direction: FlexDirection::Column,
                padding: UiRect::all(px(8.0 * scale)),
                row_gap: px(2.0 * scale),
                ..default()
            },
            BackgroundColor(Color::srgba(0.05, 0.06, 0.08, 0.72)),
            UiTargetCamera(cam),
        ))
        .with_children(|p| {
            p.spawn((Text::new(title), font(15.0), TextColor(Color::WHITE)));
            // A color swatch and the name (the default font has no bullet glyph).
            for (label, color) in methods {
                p.spawn(Node {
                    flex_direction: FlexDirection::Row,
                    align_items: AlignItems::Center,
                    column_gap: px(6.0 * scale),
                    ..default()
                })
                .with_children(|row| {
                    row.spawn((
                        Node {
                            width: px(10.0 * scale),
                            height: px(10.0 * scale),
                            ..default()
                        },
                        BackgroundColor(color),
                    ));
                    row.spawn((Text::new(label), font(14.0), TextColor(color)));
                });
            }
        });
    commands.spawn((
        Node {
            position_type: PositionType::Absolute,
            right: px(10.0 * scale),
            bottom: px(8.0 * scale),
            padding: UiRect::axes(px(8.0 * scale), px(4.0 * scale)),
            ..default()
        },
        BackgroundColor(Color::srgba(0.05, 0.06, 0.08, 0.72)),
        UiTargetCamera(cam),
        Text::new("frame 0"),
        font(14.0),
        TextColor(Color::WHITE),
        FrameCounter,
    ));
}
