package launcher

import "context"

// RestartWith is Restart with env's variables set, on top of the child's
// environment, for this start and the later ones: a test restarts a
// service with a setting changed (a fault injected or taken away).
func (p *Platform) RestartWith(ctx context.Context, name string, env map[string]string) error {
	c, err := p.child(name)
	if err != nil {
		return err
	}
	if err := c.stop(ctx, p.cfg.StopTimeout); err != nil {
		return err
	}
	c.mu.Lock()
	c.env = envList(c.env, env) // the last of duplicate keys wins
	c.mu.Unlock()
	c.log.Note("launcher: starting again with %d variable(s) changed (asked for)", len(env))
	if err := c.start(); err != nil {
		return err
	}
	return waitReady(ctx, []*child{c}, p.cfg.ReadyTimeout)
}
