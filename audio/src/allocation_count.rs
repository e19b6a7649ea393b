//! Counts heap allocations per thread, so tests can prove that the per-frame paths (edge
//! codecs, resamplers, the RTP sender) allocate nothing once built. A test binary installs
//! [`CountingAllocator`] as its global allocator and measures with [`allocations_during`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting this thread's allocations and reallocations. Install it with
/// `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;`.
pub struct CountingAllocator;

// SAFETY: every call is passed unchanged to the system allocator; the counter is a
// thread-local `Cell` with a const initialiser, which itself never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn counted() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// How many heap allocations `work` made on this thread.
///
/// # Panics
/// When [`CountingAllocator`] is not the global allocator: every count would read 0, and a
/// "nothing allocated" check could then never fail.
pub fn allocations_during(work: impl FnOnce()) -> usize {
    let before = counted();
    drop(std::hint::black_box(Box::new(0u64)));
    assert_eq!(
        counted() - before,
        1,
        "allocations_during needs `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;` in this test binary"
    );
    let before = counted();
    work();
    counted() - before
}

#[cfg(test)]
mod tests {
    use super::*;

    // This unit-test binary runs on the system allocator, so the guard must refuse to count.
    #[test]
    #[should_panic(expected = "needs `#[global_allocator]")]
    fn without_the_counting_allocator_nothing_is_reported_as_zero() {
        allocations_during(|| drop(std::hint::black_box(vec![0u8; 64])));
    }
}
