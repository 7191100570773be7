"""keyaudit/evidence"""
