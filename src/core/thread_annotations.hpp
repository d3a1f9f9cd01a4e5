// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html).
//
// With Clang and -Wthread-safety, the compiler checks that every field marked
// RUNQ_GUARDED_BY(mu_) is touched only with mu_ held, and that every function marked
// RUNQ_REQUIRES(mu_) is called with it held. On other compilers the macros expand to nothing.
// They only work with a mutex type that carries the annotations itself: use
// runq::internal::Mutex (core/mutex.hpp), not std::mutex.
//
// Lambdas are analysed as separate functions that hold no lock: write condition-variable waits
// as explicit loops (`while (!ready_) cv_.wait(mu_);`), not with a predicate lambda.
#pragma once

#if defined(__clang__)
#define RUNQ_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define RUNQ_THREAD_ANNOTATION(x)
#endif

// On a class: objects of it are locks (a capability named `x`, e.g. "mutex").
#define RUNQ_CAPABILITY(x) RUNQ_THREAD_ANNOTATION(capability(x))
// On an RAII class: it holds a lock from construction to destruction.
#define RUNQ_SCOPED_CAPABILITY RUNQ_THREAD_ANNOTATION(scoped_lockable)
// On a field: read and written only with the given lock held.
#define RUNQ_GUARDED_BY(x) RUNQ_THREAD_ANNOTATION(guarded_by(x))
// On a pointer field: the pointee is read and written only with the given lock held.
#define RUNQ_PT_GUARDED_BY(x) RUNQ_THREAD_ANNOTATION(pt_guarded_by(x))
// On a lock field: it is always taken before (after) the given locks.
#define RUNQ_ACQUIRED_BEFORE(...) RUNQ_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define RUNQ_ACQUIRED_AFTER(...) RUNQ_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// On a function: the caller must hold the locks (REQUIRES: in a comment).
#define RUNQ_REQUIRES(...) RUNQ_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: the caller must not hold the locks (the function takes them).
#define RUNQ_EXCLUDES(...) RUNQ_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: it takes (releases) the locks and returns with them held (released).
#define RUNQ_ACQUIRE(...) RUNQ_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RUNQ_RELEASE(...) RUNQ_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// On a function returning bool: it took the lock iff it returned the given value.
#define RUNQ_TRY_ACQUIRE(...) RUNQ_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: checks at run time that the lock is held; the analysis then assumes it.
#define RUNQ_ASSERT_CAPABILITY(x) RUNQ_THREAD_ANNOTATION(assert_capability(x))
// On a function: it returns a reference to the given lock.
#define RUNQ_RETURN_CAPABILITY(x) RUNQ_THREAD_ANNOTATION(lock_returned(x))
// On a function: not analysed. Only for code the analysis cannot follow; say why beside it.
#define RUNQ_NO_THREAD_SAFETY_ANALYSIS RUNQ_THREAD_ANNOTATION(no_thread_safety_analysis)
