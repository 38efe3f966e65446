package audit

import (
	"fmt"
	"strings"

	"github.com/ordo-platform/ordo/pkg/es"
)

// checkStreams: each stream's versions run 0, 1, 2, … without a gap or a
// repeat, and no event id is stored twice.
func checkStreams(h history, f *findings, c *Counts) {
	c.Events, c.Streams = len(h.all), len(h.streams)
	for _, stream := range sortedKeys(h.streams) {
		if problems := versionProblems(h.streams[stream]); len(problems) > 0 {
			f.violate(CheckStreams, stream, "versions not contiguous from 0: %s", strings.Join(problems, "; "))
		}
	}
	byID := map[es.UUID][]es.Event{}
	for _, e := range h.all {
		byID[e.ID] = append(byID[e.ID], e)
	}
	for id, events := range byID {
		if len(events) > 1 {
			where := make([]string, len(events))
			for i, e := range events {
				where[i] = fmt.Sprintf("%s v%d at %s", e.StreamID, e.Version, e.Position)
			}
			f.violate(CheckStreams, id.String(), "event id stored %d times: %s", len(events), strings.Join(where, ", "))
		}
	}
}

// versionProblems lists the gaps and repeats of a stream sorted by version.
func versionProblems(events []es.Event) []string {
	var problems []string
	next := int64(0)
	for _, e := range events {
		switch {
		case e.Version == next:
			next++
		case e.Version < next:
			problems = append(problems, fmt.Sprintf("version %d repeated (event %s)", e.Version, e.ID))
		default:
			problems = append(problems, gap(next, e.Version-1))
			next = e.Version + 1
		}
	}
	return problems
}

func gap(from, to int64) string {
	if from == to {
		return fmt.Sprintf("version %d missing", from)
	}
	return fmt.Sprintf("versions %d–%d missing", from, to)
}
