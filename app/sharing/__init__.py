"""Sharing with caseworkers: organisations, invitations, consent grants, clients and notes."""
