//! Colour names, parsing, terminal capability and downgrading.

use ratatui::style::Color;

/// What the terminal can show. Detected from the environment once at start
/// ([`ColorSupport::detect`]); tests pass one explicitly to [`super::Theme::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ColorSupport {
    /// 24-bit colour: hex colours are used as written.
    #[default]
    TrueColor,
    /// xterm 256 colours: hex colours become the nearest palette index.
    Ansi256,
    /// The 16 ANSI colours: everything becomes the nearest named colour.
    Ansi16,
    /// `NO_COLOR`: no foreground/background at all, only bold/dim/underline/reverse.
    NoColor,
}

impl ColorSupport {
    /// From the process environment: `NO_COLOR` (non-empty) → NoColor, `COLORTERM=truecolor|24bit`
    /// → TrueColor, `TERM=*256color*` → Ansi256, `TERM=dumb` → NoColor, else Ansi16.
    pub fn detect() -> ColorSupport {
        ColorSupport::from_env(|k| std::env::var(k).ok())
    }

    /// Same as [`detect`](Self::detect) with an injectable variable lookup.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> ColorSupport {
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
        // https://no-color.org: "present and not an empty string".
        if non_empty("NO_COLOR").is_some() {
            return ColorSupport::NoColor;
        }
        if let Some(ct) = non_empty("COLORTERM") {
            let ct = ct.to_ascii_lowercase();
            if ct == "truecolor" || ct == "24bit" {
                return ColorSupport::TrueColor;
            }
        }
        match non_empty("TERM") {
            Some(t) if t.contains("256color") => ColorSupport::Ansi256,
            // A dumb terminal does not interpret SGR sequences at all.
            Some(t) if t == "dumb" => ColorSupport::NoColor,
            _ => ColorSupport::Ansi16,
        }
    }
}

/// Names accepted for the ANSI colours (after lower-casing and dropping `_`, `-` and spaces).
pub const NAMED: &[(&str, Color)] = &[
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
];

fn normalise_name(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .to_ascii_lowercase()
        .replace("grey", "gray")
}

/// A literal colour: `#rrggbb`, `#rgb`, `0`–`255`, or an ANSI name. Palette names are resolved
/// by the caller first.
pub fn parse_literal(s: &str) -> Option<Color> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        return parse_hex(hex);
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u8>().ok().map(Color::Indexed);
    }
    let n = normalise_name(s);
    NAMED.iter().find(|(name, _)| *name == n).map(|(_, c)| *c)
}

fn parse_hex(hex: &str) -> Option<Color> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        6 => Some(Color::Rgb(v(&hex[0..2])?, v(&hex[2..4])?, v(&hex[4..6])?)),
        // #abc = #aabbcc, as in CSS.
        3 => {
            let d = |i: usize| v(&hex[i..i + 1]).map(|x| x * 17);
            Some(Color::Rgb(d(0)?, d(1)?, d(2)?))
        }
        _ => None,
    }
}

/// The 16 ANSI colours with xterm's default RGB values, used to find the nearest one.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// Perceptually weighted squared distance ("redmean"): plain RGB distance sends many warm
/// colours to the wrong hue.
fn dist(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let (r1, g1, b1) = (i32::from(a.0), i32::from(a.1), i32::from(a.2));
    let (r2, g2, b2) = (i32::from(b.0), i32::from(b.1), i32::from(b.2));
    let rm = (r1 + r2) / 2;
    let (dr, dg, db) = (r1 - r2, g1 - g2, b1 - b2);
    let v = (((512 + rm) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rm) * db * db) >> 8);
    u32::try_from(v).unwrap_or(u32::MAX)
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// RGB of an xterm-256 index (0–15 use the xterm defaults above).
pub fn index_to_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[usize::from(i)].1,
        16..=231 => {
            let i = i - 16;
            (
                CUBE[usize::from(i / 36)],
                CUBE[usize::from((i / 6) % 6)],
                CUBE[usize::from(i % 6)],
            )
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

/// Nearest xterm-256 index among the colour cube and the grey ramp. Indexes 0–15 are skipped:
/// users re-theme them, so they are not reliable stand-ins for a specific RGB value.
pub fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    let mut best = (u32::MAX, 16u8);
    for i in 16u8..=255 {
        let d = dist(rgb, index_to_rgb(i));
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// The ANSI colour that keeps a colour's hue: a 16-colour terminal must still tell `ok` from
/// `bad`. Distance alone sends muted colours to grey (`#5fd75f` and `#ff5f5f` were both
/// DarkGray, review REVIEW-ux bug 1), and terminals re-tint their 16 colours anyway, so the
/// hue family is what carries meaning: greys by lightness, other colours by hue sector, the
/// bright variant for bright colours.
pub fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    let (r, g, b) = (i32::from(rgb.0), i32::from(rgb.1), i32::from(rgb.2));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let chroma = max - min;
    if chroma < 40 || (max < 60) {
        let light = (max + min) / 2;
        return match light {
            0..=40 => Color::Black,
            41..=160 => Color::DarkGray,
            161..=230 => Color::Gray,
            _ => Color::White,
        };
    }
    // Hue in degrees, 0..360.
    let h = if max == r {
        (60 * (g - b) / chroma).rem_euclid(360)
    } else if max == g {
        60 * (b - r) / chroma + 120
    } else {
        60 * (r - g) / chroma + 240
    };
    let bright = max > 240;
    let pick = |normal: Color, light: Color| if bright { light } else { normal };
    match h {
        0..=19 | 340..=359 => pick(Color::Red, Color::LightRed),
        20..=74 => pick(Color::Yellow, Color::LightYellow),
        75..=159 => pick(Color::Green, Color::LightGreen),
        160..=199 => pick(Color::Cyan, Color::LightCyan),
        200..=259 => pick(Color::Blue, Color::LightBlue),
        _ => pick(Color::Magenta, Color::LightMagenta),
    }
}

/// The colour to send to a terminal with `support`; `None` = no colour at all.
pub fn downgrade(c: Color, support: ColorSupport) -> Option<Color> {
    match (support, c) {
        (ColorSupport::NoColor, _) => None,
        (ColorSupport::TrueColor, c) => Some(c),
        (ColorSupport::Ansi256, Color::Rgb(r, g, b)) => {
            Some(Color::Indexed(nearest_256((r, g, b))))
        }
        (ColorSupport::Ansi256, c) => Some(c),
        (ColorSupport::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16((r, g, b))),
        (ColorSupport::Ansi16, Color::Indexed(i)) if i < 16 => Some(ANSI16[usize::from(i)].0),
        (ColorSupport::Ansi16, Color::Indexed(i)) => Some(nearest_16(index_to_rgb(i))),
        (ColorSupport::Ansi16, c) => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(parse_literal("#5fafff"), Some(Color::Rgb(0x5f, 0xaf, 0xff)));
        assert_eq!(parse_literal("#FFF"), Some(Color::Rgb(255, 255, 255)));
        assert_eq!(parse_literal("244"), Some(Color::Indexed(244)));
        assert_eq!(parse_literal("256"), None);
        assert_eq!(parse_literal("Dark_Grey"), Some(Color::DarkGray));
        assert_eq!(parse_literal("light-blue"), Some(Color::LightBlue));
        assert_eq!(parse_literal("#12345"), None);
        assert_eq!(parse_literal("#ééé"), None);
        assert_eq!(parse_literal("bleu"), None);
        assert_eq!(parse_literal(""), None);
    }

    #[test]
    fn detection() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            ColorSupport::from_env(move |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(
            env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]),
            ColorSupport::NoColor
        );
        assert_eq!(
            env(&[("NO_COLOR", ""), ("COLORTERM", "24bit")]),
            ColorSupport::TrueColor
        );
        assert_eq!(env(&[("TERM", "xterm-256color")]), ColorSupport::Ansi256);
        assert_eq!(
            env(&[("TERM", "tmux-256color"), ("COLORTERM", "yes")]),
            ColorSupport::Ansi256
        );
        assert_eq!(env(&[("TERM", "xterm")]), ColorSupport::Ansi16);
        assert_eq!(env(&[("TERM", "dumb")]), ColorSupport::NoColor);
        assert_eq!(env(&[]), ColorSupport::Ansi16);
    }

    #[test]
    fn downgrading() {
        assert_eq!(nearest_256((0x5f, 0xaf, 0xff)), 75);
        assert_eq!(nearest_256((0x80, 0x80, 0x80)), 244);
        assert_eq!(
            downgrade(Color::Rgb(255, 0, 0), ColorSupport::Ansi256),
            Some(Color::Indexed(196))
        );
        assert_eq!(
            downgrade(Color::Rgb(250, 10, 10), ColorSupport::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(
            downgrade(Color::Indexed(1), ColorSupport::Ansi16),
            Some(Color::Red)
        );
        assert_eq!(
            downgrade(Color::Indexed(244), ColorSupport::Ansi16),
            Some(Color::DarkGray)
        );
        assert_eq!(downgrade(Color::Green, ColorSupport::NoColor), None);
        // The default theme's ok / warn / bad keep their hue on 16 colours (never grey).
        let on16 = |hex: &str| downgrade(parse_literal(hex).unwrap(), ColorSupport::Ansi16);
        assert_eq!(on16("#5fd75f"), Some(Color::Green));
        assert_eq!(on16("#ffaf00"), Some(Color::LightYellow));
        assert_eq!(on16("#ff5f5f"), Some(Color::LightRed));
        assert_eq!(on16("#5fafff"), Some(Color::LightBlue));
        assert_eq!(on16("#808080"), Some(Color::DarkGray));
        assert_eq!(on16("#e4e4e4"), Some(Color::Gray));
        for (i, (c, rgb)) in ANSI16.iter().enumerate() {
            assert_eq!(nearest_16(*rgb), *c, "ANSI colour {i} maps to itself");
        }
        assert_eq!(
            downgrade(Color::Rgb(1, 2, 3), ColorSupport::TrueColor),
            Some(Color::Rgb(1, 2, 3))
        );
        for i in 0..=255u8 {
            assert_eq!(
                nearest_256(index_to_rgb(i.max(16))),
                i.max(16),
                "index {i} round-trips"
            );
        }
    }
}
