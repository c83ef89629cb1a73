package natsadapter

// WithTestHook makes f run at the start of each of the adapter's NATS
// message callbacks (both subscriptions), before the message is decoded:
// a test blocks the callbacks with it to make NATS drop messages (a slow
// consumer, RELIABILITY.md row 31). It is set before the subscriptions
// start, so it may be read from the callbacks without synchronisation.
func WithTestHook(f func()) Option { return func(c *config) { c.testHook = f } }
