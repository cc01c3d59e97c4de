package controllers

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Options configure every controller.
type Options struct {
	// Dial reaches the data plane (tests); nil dials pod IPs.
	Dial DialFunc
	// Resync is the drift-check interval (default 2 min).
	Resync time.Duration
	// BackupPoll is the backup job poll interval (default 2 s).
	BackupPoll time.Duration
	// Now is the schedule clock (tests); nil is time.Now.
	Now func() time.Time
}

// Setup registers all six controllers with mgr, sharing one data-plane
// connector (and so one login per cluster).
func Setup(mgr ctrl.Manager, o Options) error {
	c, dp := mgr.GetClient(), &DataPlane{Client: mgr.GetClient(), Dial: o.Dial}
	rec := mgr.GetEventRecorder
	reconcilers := []interface{ SetupWithManager(ctrl.Manager) error }{
		&KalamClusterReconciler{Client: c, Scheme: mgr.GetScheme(), Recorder: rec("kalamcluster-controller"), DataPlane: dp, APIReader: mgr.GetAPIReader(), Resync: o.Resync},
		&KalamNamespaceReconciler{Client: c, Recorder: rec("kalamnamespace-controller"), DataPlane: dp, Resync: o.Resync},
		&KalamTableReconciler{Client: c, Recorder: rec("kalamtable-controller"), DataPlane: dp, Resync: o.Resync},
		&KalamUserReconciler{Client: c, Recorder: rec("kalamuser-controller"), DataPlane: dp, Resync: o.Resync},
		&KalamBackupReconciler{Client: c, APIReader: mgr.GetAPIReader(), Recorder: rec("kalambackup-controller"), DataPlane: dp, PollInterval: o.BackupPoll, Resync: o.Resync},
		&KalamScheduledBackupReconciler{Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Recorder: rec("kalamscheduledbackup-controller"), DataPlane: dp, Now: o.Now},
	}
	for _, r := range reconcilers {
		if err := r.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("while setting up %T: %w", r, err)
		}
	}
	return nil
}
