// The clock for waits and due times. performance.now() is monotonic: a wall-clock jump (NTP
// stepping the clock, a suspended VM resumed, an operator changing the time) neither delays a
// requeue nor fires it early, nor makes a rate limiter refill backwards. Its values mean nothing
// outside this process: never store or compare them with timestamps (Date.now() is for those).
export const monotonicNow = (): number => performance.now();
