// Package checkacr is `podid check-acr`: what az aks check-acr does (DNS of
// the login server, the node identity from azure.json, its Azure AD token,
// the exchange), and then what a pull does next: a repository-scoped pull
// token and the image's manifest, so it never says "can pull" when a pull
// would fail. Each step prints one line; a failure adds its cause and fix.
// The steps and explanations live in package acrcred.
package checkacr
