"""FastAPI-Users on Beanie, as its documentation sets it up, for bench/run.py to measure ours against.

The "full example" of FastAPI-Users 15 (https://fastapi-users.github.io/fastapi-users/latest/configuration/full-example/)
with the Beanie adapter and a JWT bearer strategy: `POST /auth/register`, `POST /auth/jwt/login`
(form fields `username`, `password`), `GET /users/me`. Its defaults are kept (pwdlib's Argon2id
with argon2-cffi's parameters, then bcrypt), so the figures are those of FastAPI-Users as shipped.
Beanie talks to the same SecantusDB server as ours through pymongo's async client.

    MONGODB_URI=mongodb://127.0.0.1:27017/bench_fau bench/.peers-venv/bin/uvicorn --app-dir bench/peers fau_app:app

Not part of the service: it runs from bench/.peers-venv (bench/peers-requirements.txt).
"""
import os
from contextlib import asynccontextmanager

from beanie import Document, PydanticObjectId, init_beanie
from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import BeanieBaseUser, BeanieUserDatabase
from fastapi_users_db_beanie import ObjectIDIDMixin
from pymongo import AsyncMongoClient

SECRET = os.environ.get("FAU_SECRET", "bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz")
client = AsyncMongoClient(os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/bench_fau"), uuidRepresentation="standard")


class User(BeanieBaseUser, Document):
    pass


class UserRead(schemas.BaseUser[PydanticObjectId]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


async def get_user_db():
    yield BeanieUserDatabase(User)


class UserManager(ObjectIDIDMixin, BaseUserManager[User, PydanticObjectId]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db=Depends(get_user_db)):
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=7200)


auth_backend = AuthenticationBackend(name="jwt", transport=BearerTransport(tokenUrl="auth/jwt/login"), get_strategy=get_jwt_strategy)
fastapi_users = FastAPIUsers[User, PydanticObjectId](get_user_manager, [auth_backend])


@asynccontextmanager
async def lifespan(app: FastAPI):
    await init_beanie(database=client.get_default_database(), document_models=[User])
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth", tags=["auth"])
app.include_router(fastapi_users.get_users_router(UserRead, schemas.BaseUserUpdate), prefix="/users", tags=["users"])


@app.get("/health")
async def health():
    return {"status": "ok"}
