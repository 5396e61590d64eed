//! Each method's color, the same in the sandbox, the recorded clips and the lab's charts.

/// A distinct, saturated sRGB color (components in 0..=1) per method: the notebook's five get
/// five well-separated hues; the rules a hand-picked palette, so that the usual rivals (SGD,
/// heavy ball, Adam, RMSprop, Langevin...) never share a hue; anything else (`index` in its
/// list) evenly spaced hues.
pub fn method_color(id: &str, index: usize) -> [f32; 3] {
    let u8s = |r: u8, g: u8, b: u8| [r, g, b].map(|v| f32::from(v) / 255.0);
    match id {
        "seed:sgd" => [0.95, 0.90, 0.15],
        "seed:momentum" => [0.10, 0.85, 0.30],
        "seed:adagrad" => [1.00, 0.45, 0.05],
        "seed:adagrad-finetune" => [0.85, 0.20, 0.90],
        "seed:adadelta" => [0.05, 0.85, 0.95],
        "sgd" => u8s(0xe8, 0x50, 0x4a),
        "heavy-ball" => u8s(0x4c, 0xc9, 0x70),
        "nesterov" => u8s(0xb7, 0x7b, 0xf0),
        "adagrad" => u8s(0xf2, 0xd0, 0x4b),
        "adadelta" => u8s(0x47, 0xc6, 0xd6),
        "rmsprop" => u8s(0xf0, 0x8a, 0x3c),
        "adam" => u8s(0x4f, 0x8f, 0xf7),
        "adamw" => u8s(0x9f, 0xc0, 0xff),
        "amsgrad" => u8s(0x2e, 0x4f, 0xb0),
        "adamax" => u8s(0xff, 0x7f, 0xc8),
        "nadam" => u8s(0xa8, 0xe0, 0x5a),
        "radam" => u8s(0xd9, 0xa0, 0x66),
        "lion" => u8s(0xf5, 0xf5, 0xf5),
        "adabelief" => u8s(0x7f, 0xe0, 0xc0),
        "langevin" => u8s(0xc0, 0x4f, 0xa0),
        "momentum" => u8s(0x2e, 0x9e, 0x5b),
        "seed-adagrad" => u8s(0xc8, 0x96, 0x1e),
        "nelder-mead" => u8s(0x00, 0xb3, 0xa4),
        "bfgs" => u8s(0x8a, 0x6c, 0xff),
        "cma-es" => u8s(0xff, 0x6a, 0x00),
        "annealing" => u8s(0xe0, 0x40, 0xe0),
        "basin-hopping" => u8s(0xff, 0x4f, 0x6d),
        "differential-evolution" => u8s(0xff, 0xb0, 0x00),
        "random-search" => u8s(0xa0, 0xa0, 0xa0),
        "multistart" => u8s(0x6d, 0xd3, 0xff),
        _ => hsl((index as f32 * 137.508) % 360.0, 0.85, 0.55),
    }
}

/// HSL (hue in degrees) to sRGB, as CSS defines it.
fn hsl(h: f32, s: f32, l: f32) -> [f32; 3] {
    let a = s * l.min(1.0 - l);
    let f = |n: f32| {
        let k = (n + h / 30.0) % 12.0;
        l - a * (k - 3.0).min(9.0 - k).clamp(-1.0, 1.0)
    };
    [f(0.0), f(8.0), f(4.0)]
}
