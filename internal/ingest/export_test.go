package ingest

// Abandon stops the background flush without summarising what is pending,
// as a crash would: the tests then reopen the store and Recover.
func (in *Ingester) Abandon() {
	in.closing.Do(func() {
		close(in.stop)
		in.stopped.Wait()
	})
}
