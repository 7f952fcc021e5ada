//! Where the log ring keeps its lines' bytes: blocks of 64 KiB filled one line after the other,
//! each line's style runs beside its block, a block freed (recycled) once no line in it is left.
//!
//! Why blocks and not one `String` per line: 100,000 small allocations cost their malloc
//! headers and, allocated on the tokio workers and freed on the loop's thread much later, left
//! the workers' arenas fragmented: following a flood held 56–63 MB of RSS against ~32 MB of
//! heap (docs/PERFORMANCE.md §14). A full ring now holds about its text in a few hundred
//! equal blocks allocated on the loop's thread, and a dropped block becomes the next one.

use std::collections::VecDeque;

use crate::model::StyleRun;

/// Bytes per block. Every line's start in its block fits a `u16` (the ring's record keeps it
/// that small); a longer line gets a block of its own.
pub const BLOCK: usize = 1 << 16;

/// Where a line's bytes went: its block's sequence number and its offset in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub block: u32,
    pub start: u16,
}

#[derive(Debug)]
struct Block {
    text: String,
    /// The style runs of the block's lines, offsets in the block's text, in text order (lines
    /// are appended in order and each line's runs sorted), so a line finds its own by a
    /// binary search over its byte range.
    runs: Vec<StyleRun>,
    /// Lines stored here that the ring still holds.
    live: u32,
}

impl Block {
    fn with_capacity(bytes: usize) -> Self {
        Block {
            text: String::with_capacity(bytes),
            runs: Vec::new(),
            live: 0,
        }
    }

    /// Room for `len` more bytes without growing, at an offset a `u16` can hold.
    fn fits(&self, len: usize) -> bool {
        self.text.len() <= usize::from(u16::MAX) && self.text.capacity() - self.text.len() >= len
    }
}

#[derive(Debug, Default)]
pub struct TextArena {
    blocks: VecDeque<Block>,
    /// Sequence number of `blocks[0]`; numbers wrap, only their differences are used.
    first: u32,
    /// One emptied standard block kept for the next, so a full ring allocates nothing.
    spare: Option<Block>,
}

impl TextArena {
    /// Store a line's text and its runs (offsets in `text`): empty runs, runs past the text's
    /// end and runs out of order are dropped or put in order here, so lookups can rely on it.
    pub fn push(&mut self, text: &str, runs: &[StyleRun]) -> Placed {
        let len = text.len();
        if !self.blocks.back().is_some_and(|b| b.fits(len)) {
            self.open_block(len);
        }
        let first = self.first;
        let last = self.blocks.len() - 1;
        let Some(block) = self.blocks.back_mut() else {
            // open_block always leaves a block at the back.
            return Placed {
                block: first,
                start: 0,
            };
        };
        let offset = block.text.len();
        block.text.push_str(text);
        block.live += 1;
        let base = offset as u32;
        let end = len as u32;
        let kept = block.runs.len();
        block.runs.extend(
            runs.iter()
                .filter(|r| r.start < r.end && r.start < end)
                .map(|r| StyleRun {
                    start: base + r.start,
                    end: base + r.end.min(end),
                    style: r.style,
                }),
        );
        let mine = &mut block.runs[kept..];
        if !mine.is_sorted_by_key(|r| r.start) {
            mine.sort_by_key(|r| r.start);
        }
        Placed {
            block: first.wrapping_add(last as u32),
            start: u16::try_from(offset).unwrap_or(u16::MAX),
        }
    }

    fn open_block(&mut self, len: usize) {
        let block = if len > BLOCK {
            Block::with_capacity(len)
        } else {
            self.spare
                .take()
                .unwrap_or_else(|| Block::with_capacity(BLOCK))
        };
        // Sequence numbers go on from the last block freed (`first` only grows), so a line's
        // number never names another block while the ring holds it.
        self.blocks.push_back(block);
    }

    fn block(&self, seq: u32) -> Option<&Block> {
        self.blocks.get(seq.wrapping_sub(self.first) as usize)
    }

    /// The text of a line stored at `at`, `len` bytes long.
    pub fn text(&self, at: Placed, len: u32) -> Option<&str> {
        let start = usize::from(at.start);
        self.block(at.block)?.text.get(start..start + len as usize)
    }

    /// The runs of the line at `at` (offsets in its block; subtract `at.start`).
    pub fn runs(&self, at: Placed, len: u32) -> &[StyleRun] {
        let Some(block) = self.block(at.block) else {
            return &[];
        };
        let start = u32::from(at.start);
        let end = start + len;
        let from = block.runs.partition_point(|r| r.start < start);
        let to = block.runs.partition_point(|r| r.start < end);
        block.runs.get(from..to).unwrap_or(&[])
    }

    /// The ring let go of a line stored in block `seq`: free the blocks at the front that hold
    /// no line any more. A block further back that emptied (its lines were interleaved out of
    /// arrival order) waits until it reaches the front; the reorder window bounds that.
    pub fn release(&mut self, seq: u32) {
        let i = seq.wrapping_sub(self.first) as usize;
        if let Some(b) = self.blocks.get_mut(i) {
            b.live = b.live.saturating_sub(1);
        }
        while self.blocks.front().is_some_and(|b| b.live == 0) {
            if self.blocks.len() == 1 {
                // The block being written: keep filling it from its start.
                if let Some(b) = self.blocks.front_mut() {
                    b.text.clear();
                    b.runs.clear();
                }
                break;
            }
            if let Some(b) = self.blocks.pop_front() {
                self.recycle(b);
            }
            self.first = self.first.wrapping_add(1);
        }
    }

    fn recycle(&mut self, mut b: Block) {
        if self.spare.is_none() && b.text.capacity() == BLOCK {
            b.text.clear();
            b.runs.clear();
            b.live = 0;
            self.spare = Some(b);
        }
    }

    /// Forget every line; one block stays for the next.
    pub fn clear(&mut self) {
        while let Some(b) = self.blocks.pop_front() {
            self.recycle(b);
            self.first = self.first.wrapping_add(1);
        }
    }

    /// Bytes reserved for text (the blocks' capacities, the spare included), for tests and
    /// the memory figures.
    pub fn reserved(&self) -> usize {
        self.blocks
            .iter()
            .chain(self.spare.as_ref())
            .map(|b| b.text.capacity())
            .sum()
    }

    #[cfg(test)]
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    fn run(start: u32, end: u32) -> StyleRun {
        StyleRun {
            start,
            end,
            style: Style::default().fg(Color::Red),
        }
    }

    #[test]
    fn lines_share_a_block_until_it_is_full() {
        let mut a = TextArena::default();
        let line = "x".repeat(1000);
        let placed: Vec<Placed> = (0..70).map(|_| a.push(&line, &[])).collect();
        assert_eq!(a.blocks(), 2, "65 lines of 1,000 bytes fit in 64 KiB");
        assert_eq!(placed[0], Placed { block: 0, start: 0 });
        assert_eq!(
            placed[1],
            Placed {
                block: 0,
                start: 1000
            }
        );
        assert_eq!(placed[65], Placed { block: 1, start: 0 });
        assert_eq!(a.text(placed[64], 1000), Some(line.as_str()));
    }

    #[test]
    fn a_long_line_gets_a_block_of_its_own() {
        let mut a = TextArena::default();
        let small = a.push("small", &[]);
        let long = "é".repeat(BLOCK); // 2 bytes each
        let at = a.push(&long, &[]);
        assert_eq!(at, Placed { block: 1, start: 0 });
        assert_eq!(a.text(at, long.len() as u32), Some(long.as_str()));
        let next = a.push("next", &[]);
        assert_eq!(next.block, 2, "the long line's block is full");
        assert_eq!(a.text(small, 5), Some("small"));
        // Freed, the long block is not kept as the spare: only standard blocks are recycled.
        a.release(small.block);
        a.release(at.block);
        assert_eq!(a.blocks(), 1);
        assert_eq!(a.reserved(), 2 * BLOCK);
    }

    #[test]
    fn blocks_are_freed_from_the_front_when_empty_and_recycled() {
        let mut a = TextArena::default();
        let line = "y".repeat(30_000);
        let p: Vec<Placed> = (0..6).map(|_| a.push(&line, &[])).collect();
        assert_eq!(a.blocks(), 3);
        // Block 1's lines go first (interleaving): block 0 still holds one, nothing is freed.
        a.release(p[2].block);
        a.release(p[3].block);
        assert_eq!(a.blocks(), 3);
        a.release(p[0].block);
        assert_eq!(a.blocks(), 3);
        a.release(p[1].block);
        assert_eq!(a.blocks(), 1, "blocks 0 and 1 freed together");
        assert_eq!(a.text(p[4], 30_000), Some(line.as_str()));
        assert_eq!(a.text(p[0], 30_000), None, "a freed block's lines are gone");
        let q = a.push(&line, &[]);
        assert_eq!(q.block, 3, "numbers go on");
        assert_eq!(
            a.reserved(),
            2 * BLOCK,
            "the spare became block 3, block 1 was freed"
        );
    }

    #[test]
    fn the_only_block_is_reused_from_its_start() {
        let mut a = TextArena::default();
        let p = a.push("one", &[run(0, 3)]);
        a.release(p.block);
        let q = a.push("two", &[]);
        assert_eq!(q, Placed { block: 0, start: 0 });
        assert_eq!(a.text(q, 3), Some("two"));
        assert!(a.runs(q, 3).is_empty(), "the old line's runs went with it");
    }

    #[test]
    fn each_line_finds_its_own_runs() {
        let mut a = TextArena::default();
        let p = a.push("red green", &[run(6, 9), run(0, 3)]);
        let q = a.push("plain", &[]);
        let r = a.push("more", &[run(0, 99), run(2, 2), run(9, 12)]);
        let got: Vec<(u32, u32)> = a.runs(p, 9).iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(got, vec![(0, 3), (6, 9)], "sorted");
        assert!(a.runs(q, 5).is_empty());
        let got: Vec<(u32, u32)> = a.runs(r, 4).iter().map(|x| (x.start, x.end)).collect();
        assert_eq!(
            got,
            vec![(14, 18)],
            "clamped to the text, empty ones dropped"
        );
    }

    #[test]
    fn an_empty_line_at_a_full_block_goes_to_the_next() {
        let mut a = TextArena::default();
        let fill = "z".repeat(BLOCK);
        let f = a.push(&fill, &[]);
        assert_eq!(f, Placed { block: 0, start: 0 });
        let e = a.push("", &[]);
        assert_eq!(e, Placed { block: 1, start: 0 });
        assert_eq!(a.text(e, 0), Some(""));
    }
}
