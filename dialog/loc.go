package dialog

import "time"

// moscow is the institute's time zone, used for dates clients read.
var moscow = time.FixedZone("MSK", 3*60*60)

type locationer struct{ loc *time.Location }

func (l locationer) Location() *time.Location {
	if l.loc == nil {
		return moscow
	}
	return l.loc
}
