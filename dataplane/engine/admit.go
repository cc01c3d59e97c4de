package engine

// Admission of commands while the data volume is short of space.
//
// Options.Admit, when set, is asked before a command is queued; it
// refuses (the command then fails with ErrDiskFull and changes nothing)
// while the volume is below its free-space reserve. Commands that make
// room are never asked: deleting rows, dropping tables or namespaces,
// moving rows to the cold tier (Cold), purging a dropped user's rows, and
// the job records those need. They write little to the WAL (the reserve
// covers it), and refusing them would leave an operator no way to free
// space but growing the volume.

// FreesSpace reports whether cmd only removes data (or records a job that
// does): such commands are admitted while the volume is low on space.
func FreesSpace(cmd *Command) bool {
	switch {
	case cmd.Cold != nil, cmd.PurgeUser != nil:
		return true
	case cmd.Catalog != nil:
		switch cmd.Catalog.Op {
		case CatDropNamespace, CatDropTable, CatPurgeDropped, CatDropStorage, CatPutJob, CatDeleteJob:
			return true
		}
		return false
	case cmd.Fence != nil, cmd.Index != nil, cmd.ColdGuard != nil && len(cmd.Rows) == 0:
		return false
	}
	if len(cmd.Rows) == 0 {
		return false
	}
	for _, w := range cmd.Rows {
		if w.Op != OpDelete && w.Op != OpDropTableData {
			return false
		}
	}
	return true
}
