"""keyaudit/rules"""
